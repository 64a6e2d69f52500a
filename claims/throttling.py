"""Login and password-change throttling (django-axes) that holds behind the TLS proxy.

Behind the proxy every request comes from the proxy's address, so axes' username + address
lockout became a username lockout: anyone could lock anyone out, the admin included. The
client's address is therefore taken from the X-Forwarded-For entry that the trusted proxy
wrote. A second, higher limit per address alone throttles password spraying (one address
trying many usernames), and the change-password form counts a wrong old password as a failure.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.db.models import Sum

# What axes counts failures by, in this order: the pair (the ordinary lockout) and the address
# alone (password spraying). ThrottlingHandler relies on the order.
LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    return LOCKOUT_PARAMETERS


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with N trusted proxies in front, the N-th
    X-Forwarded-For entry from the right (the one the outermost trusted proxy appended).

    Entries further left are written by the client and never trusted. With TRUSTED_PROXIES set,
    the header counts only on requests that come from one of those networks (so that a client
    reaching the app servers directly cannot choose its address). A port after the address is
    dropped; an IPv6 client counts as its /64, which one host can rotate through at will.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.CLAIMDESK_TRUSTED_PROXY_COUNT
    if count <= 0 or not _from_trusted_proxy(remote):
        return _grouped(remote)
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return _grouped(remote)  # reached without the proxy (or it did not set the header)
    return _grouped(_without_port(forwarded[-count])) or _grouped(remote)


def _from_trusted_proxy(remote: str | None) -> bool:
    networks = settings.CLAIMDESK_TRUSTED_PROXIES
    if not networks:
        return True  # the documented setup: the app servers are reachable only by the proxy
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _without_port(entry: str) -> str:
    if entry.startswith("["):  # [2001:db8::1]:443
        return entry[1 : entry.find("]")] if "]" in entry else entry
    if entry.count(":") == 1:  # 203.0.113.7:51234
        return entry.split(":")[0]
    return entry


def _grouped(value: str | None) -> str | None:
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


class ThrottlingHandler(AxesDatabaseHandler):
    """axes' database handler with two limits: AXES_FAILURE_LIMIT per username and address,
    CLAIMDESK_IP_FAILURE_LIMIT per address alone."""

    def get_failures(self, request, credentials=None) -> int:
        pair, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.CLAIMDESK_IP_FAILURE_LIMIT:
            # Report the pair limit as reached: axes then refuses every username here.
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A successful login clears that username's failures only: a sprayer who owns one
        # account must not wipe the address's count by logging into it.
        pair_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair_attempts.delete()
        return count


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Checks the old password through authenticate(), so that axes counts a wrong one as a
    failed login and refuses (429) once the limit is reached."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if user is None or user.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class ThrottledPasswordChangeView(PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
