"""`runserver` without the ~40 ms wait on a kept-alive connection (bench/devserver.py).

Django's development server sends a response's headers and its body in two writes. With
Nagle's algorithm on, the body waits until the client acknowledges the headers, and a client
on a kept-alive connection (every browser) delays that acknowledgement by up to 40 ms: each
request took about 45 ms instead of a few. TCP_NODELAY sends the body at once. Static files
are left to WhiteNoise's middleware (it finds them in DEBUG and refreshes them), as
`whitenoise.runserver_nostatic` did; auto-reload is Django's own.
"""

from django.contrib.staticfiles.management.commands.runserver import (
    Command as StaticfilesRunserverCommand,
)
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer


class NoDelayRequestHandler(WSGIRequestHandler):
    # socketserver.StreamRequestHandler.setup() then sets TCP_NODELAY on the connection.
    disable_nagle_algorithm = True


class NoDelayWSGIServer(WSGIServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.RequestHandlerClass = NoDelayRequestHandler


class Command(StaticfilesRunserverCommand):
    server_cls = NoDelayWSGIServer

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(use_static_handler=False)  # WhiteNoise serves them
