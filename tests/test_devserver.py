"""`manage.py runserver` is claimdesk's: no Nagle wait on kept-alive connections, static files
left to WhiteNoise (bench/devserver.py measures the wait)."""

import socket
import threading
import urllib.request

from django.core.management import get_commands, load_command_class
from django.core.servers.basehttp import WSGIRequestHandler

from project.devserver.management.commands.runserver import (
    NoDelayRequestHandler,
    NoDelayWSGIServer,
)


def test_runserver_is_the_no_delay_one_without_the_static_handler():
    app = get_commands()["runserver"]
    command = load_command_class(app, "runserver")
    options = command.create_parser("manage.py", "runserver").parse_args([])

    assert app == "project.devserver"
    assert command.server_cls is NoDelayWSGIServer
    assert options.use_static_handler is False  # WhiteNoise's middleware serves them
    assert options.use_reloader is True


def test_the_server_sets_tcp_nodelay_on_each_connection():
    seen = []

    class Recording(NoDelayRequestHandler):
        def handle(self):
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().handle()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    # As django.core.servers.basehttp.run() builds it: with the stock handler class.
    server = NoDelayWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    assert server.RequestHandlerClass is NoDelayRequestHandler
    server.RequestHandlerClass = Recording
    server.set_app(app)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"ok"
    finally:
        thread.join(10)
        server.server_close()

    assert seen and seen[0] != 0
