"""Where a webhook may be sent. In production: https only, and never to an
address inside our network (private, loopback, link-local, …), checked when the
endpoint is created and again at every send, on the very address we connect to
(a name that resolved to a public address at creation can later resolve to
127.0.0.1: DNS rebinding). Development and tests may send to local http
receivers."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

URL_MAX = 2000


class UnsafeURL(ValueError):
    """The URL may not be used; the message says why (in English, for logs)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str  # the IP connected to


def parse(url: str, *, strict: bool) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or len(url) > URL_MAX or any(c.isspace() for c in url):
        raise UnsafeURL("not a URL")
    parts = urlsplit(url)
    allowed = ("https",) if strict else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeURL("https only" if strict else "http or https only")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURL("needs a host, without credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("bad port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str, *, strict: bool) -> Target:
    """The URL's parts and the address to connect to. `strict` (production):
    every address the name resolves to must be public."""
    scheme, host, port, path = parse(url, strict=strict)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL("the host name does not resolve") from None
    addresses = [info[4][0] for info in infos]
    if strict and not all(is_public(a) for a in addresses):
        raise UnsafeURL("the host resolves to a private, loopback or link-local address")
    return Target(scheme, host, port, path, addresses[0])
