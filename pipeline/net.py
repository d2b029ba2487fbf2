"""Which addresses the server may send a delivery to, checked when a destination is set up and again on the
connection itself.

A webhook destination is an https URL whose host resolves only to public addresses. Private, loopback,
link-local, multicast and reserved addresses are refused, so a destination cannot make the server talk to
itself or its network (the cloud metadata service at 169.254.169.254, a database on 10.x). Plain http, and
addresses that would otherwise be refused, are allowed only for hosts the operator lists in the environment
(DELIVERY_ALLOWED_HOSTS): a receiver on the office network, or the tests' listener on 127.0.0.1.

The check runs on the socket each delivery connects (`GuardedAdapter`), after DNS resolution, so a name that
resolved to a public address when the destination was saved and to an internal one later (DNS rebinding) is
still refused, and redirects are not followed.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class AddressRefused(ValueError):
    """The URL or the address it resolves to is not one the server may deliver to."""


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def address_refusal(address: str) -> str | None:
    """Why a resolved IP address is not public (None when it is)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for test, name in ((ip.is_loopback, "a loopback"), (ip.is_link_local, "a link-local"),
                       (ip.is_private, "a private"), (ip.is_multicast, "a multicast"),
                       (ip.is_unspecified, "an unspecified"), (ip.is_reserved, "a reserved")):
        if test:
            return f"{address} is {name} address"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"{host} does not resolve ({exc.strerror})") from exc
    return sorted({info[4][0] for info in infos})


def check_delivery_url(url: str, allowed_hosts: Iterable[str], *, resolve_host: bool = True) -> str:
    """The URL if the server may POST to it; AddressRefused in words otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused("give a full https:// address, like https://hooks.example.com/media")
    if parts.username or parts.password:
        raise AddressRefused("the address must not carry a user name or password; the signature secret is "
                             "WEBHOOK_SECRET in the environment")
    host = _normal_host(parts.hostname)
    allowed = {_normal_host(h) for h in allowed_hosts if h.strip()}
    if host in allowed:
        return url.strip()
    if parts.scheme != "https":
        raise AddressRefused(f"{host} is reached over plain http; use https (or have the operator add {host} "
                             "to DELIVERY_ALLOWED_HOSTS)")
    if resolve_host:
        for address in resolve(host, parts.port or 443):
            if reason := address_refusal(address):
                raise AddressRefused(f"{host} resolves to {reason}: the server does not deliver inside its own "
                                     "network (an operator may allow a host in DELIVERY_ALLOWED_HOSTS)")
    return url.strip()


class _GuardedMixin:
    allowed_hosts: frozenset[str] = frozenset()

    def connect(self):
        super().connect()
        if _normal_host(self.host) in self.allowed_hosts:
            return
        peer = self.sock.getpeername()[0]
        if reason := address_refusal(peer):
            self.close()
            raise AddressRefused(f"{self.host} connected to {reason}; the delivery was not sent")


def guarded_adapter(allowed_hosts: Iterable[str], **kwargs) -> HTTPAdapter:
    """An HTTPAdapter whose connections refuse non-public peers, except to the operator's allowed hosts."""
    allowed = frozenset(_normal_host(h) for h in allowed_hosts if h.strip())
    http_conn = type("GuardedHTTPConnection", (_GuardedMixin, HTTPConnection), {"allowed_hosts": allowed})
    https_conn = type("GuardedHTTPSConnection", (_GuardedMixin, HTTPSConnection), {"allowed_hosts": allowed})
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **pool_kwargs):
            super().init_poolmanager(*args, **pool_kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    return GuardedAdapter(**kwargs)
