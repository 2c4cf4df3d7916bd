"""Outbound calls to the services we integrate with (Shopify, SimplyPrint, Sendcloud).

A shop admin types an integration's address (a shop domain, an API base URL). Without a guard
the server would call whatever that names (an internal admin page, the cloud's metadata
address, a database port) with the shop's token, and show the answer back. So every httpx
client of an integration is built here, and its calls:

* go over https only, to the service's own host names (a per-service allow-list), on the
  standard port;
* resolve the host name once, refuse it when any address it resolves to is not a public
  internet address (private, loopback, link-local, multicast, reserved, unspecified, shared;
  IPv4 and IPv6, including IPv4 inside IPv6), and connect to exactly the address that was
  checked, so a second, different DNS answer (rebinding) cannot slip in between check and
  connect; TLS still verifies the certificate against the host name;
* never follow redirects (each request, wherever it goes, passes the same checks anyway).

Development and tests run offline stand-ins on 127.0.0.1 over plain http; the explicit
`OUTBOUND_ALLOW_PRIVATE` setting lets calls reach them. It is off by default and refused in
production (`Settings.check_production`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpcore
import httpx

from app.platform import logs
from app.settings import get_settings


@dataclass(frozen=True)
class Service:
    """An outside service and the host names its API lives on."""

    name: str  # as people read it
    hosts: tuple[str, ...] = ()  # exact host names
    domains: tuple[str, ...] = ()  # any host name under one of these (not the domain itself)

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(
            host.endswith("." + d) and len(host) > len(d) + 1 and ".." not in host for d in self.domains
        )

    @property
    def servers(self) -> str:
        """The allowed host names, for a message ("*.myshopify.com")."""
        return ", ".join([*self.hosts, *(f"*.{d}" for d in self.domains)])


# The hosts each service's contract names (its API and, for SimplyPrint, its upload host).
SHOPIFY = Service("Shopify", domains=("myshopify.com",))
SIMPLYPRINT = Service("SimplyPrint", hosts=("api.simplyprint.io", "files.simplyprint.io", "simplyprint.io"))
SENDCLOUD = Service("Sendcloud", hosts=("panel.sendcloud.sc", "servicepoints.sendcloud.sc"))

PRIVATE_NETWORK = "that address is inside a private network; integrations may only call the service's own servers"


class OutboundRefused(Exception):
    """We did not make the call: the address is not one the service may be reached at.

    Not an `httpx.TransportError`, so no client mistakes it for a network hiccup and retries.
    `message` is a sentence for people.
    """

    def __init__(self, service: Service, reason: str) -> None:
        self.service = service
        self.reason = reason
        self.message = f"{service.name} was not called: {reason}"
        super().__init__(self.message)


def private_allowed() -> bool:
    """True when calls may reach the local stand-ins (development and tests only)."""
    return get_settings().outbound_allow_private


def check_url(service: Service, url: str | httpx.URL) -> None:
    """Refuse an address the service cannot live at, before any network traffic.

    Used on every request and by the connect forms, so a wrong address is refused when it is
    typed. The resolved addresses are checked later, right before connecting.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise OutboundRefused(service, "that is not a web address") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused(service, "that is not an http(s) web address")
    if private_allowed():
        return
    if _ip(parsed.host) is not None and not is_public(parsed.host):
        raise OutboundRefused(service, PRIVATE_NETWORK)
    if parsed.scheme != "https":
        raise OutboundRefused(service, "only https:// addresses are allowed")
    if not service.allows(parsed.host):
        raise OutboundRefused(service, f"{parsed.host} is not one of {service.name}'s servers ({service.servers})")
    if parsed.port not in (None, 443):
        raise OutboundRefused(service, "only the standard https port is allowed")


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def is_public(address: str) -> bool:
    """True for an address on the public internet; False for anything inside a network
    (private, loopback, link-local, multicast, reserved, unspecified, shared/CGNAT, documentation)
    or that tunnels into one (IPv4-mapped, NAT64, 6to4, Teredo)."""
    ip = _ip(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if ip.teredo:
            embedded = ip.teredo[1]
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip in _NAT64_LOCAL:
            return False
        if embedded is not None and not is_public(str(embedded)):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (in the resolver's order)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in out:
            out.append(address)
    return out


def checked_addresses(service: Service, host: str, port: int) -> list[str]:
    """Resolve once and refuse unless every address is public; the addresses to connect to."""
    if _ip(host) is not None:
        addresses = [host.strip("[]")]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise httpcore.ConnectError(f"could not resolve {host}")
    if not all(is_public(a) for a in addresses):
        raise OutboundRefused(service, PRIVATE_NETWORK)
    return addresses


class GuardedNetwork(httpcore.NetworkBackend):
    """Opens connections only to checked addresses: the host name is resolved here, every
    address checked, and the socket opened to that very address (TLS keeps the host name for
    SNI and certificate checks, so nothing else changes)."""

    def __init__(self, service: Service, inner: httpcore.NetworkBackend | None = None) -> None:
        self.service = service
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if private_allowed():
            return self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        failure: Exception | None = None
        for address in checked_addresses(self.service, host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused(self.service, PRIVATE_NETWORK)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def network_transport(service: Service, network: httpcore.NetworkBackend | None = None) -> httpx.HTTPTransport:
    """httpx's own transport, opening its connections through `GuardedNetwork`.

    httpx takes no network backend of its own, so its connection pool is replaced by one
    built the same way with ours; environment proxies are ignored (a proxy would connect
    on our behalf, past the address check).
    """
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedNetwork(service, network),
    )
    return transport


class GuardedTransport(httpx.BaseTransport):
    """Checks every request's address (scheme, host, port) before handing it on.

    `inner` is the real network (`network_transport`) unless a test supplies its own.
    """

    def __init__(self, service: Service, inner: httpx.BaseTransport | None = None) -> None:
        self.service = service
        self.inner = inner or network_transport(service)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(self.service, request.url)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def client(
    service: Service,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 20.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The httpx client every integration uses: guarded, no redirects, no environment proxies,
    the correlation id on every call. `transport` replaces the network (tests); the address
    checks apply to it as well."""
    return httpx.Client(
        transport=GuardedTransport(service, transport),
        timeout=timeout,
        headers=dict(headers or {}),
        follow_redirects=False,
        trust_env=False,
        event_hooks=logs.httpx_event_hooks(),
    )


def redirect_refused(service: Service, response: httpx.Response) -> str:
    """The message for an answer that tries to send us elsewhere (never followed)."""
    return f"{service.name} answered with a redirect (HTTP {response.status_code}), which is not followed"


def status_hint(service: Service, status_code: int, credential: str) -> str:
    """What a refused call (HTTP 4xx) means, without the answer's body."""
    if status_code in (401, 403):
        return f"{service.name} refused the request (HTTP {status_code}): check the {credential}"
    if status_code == 404:
        return f"{service.name} refused the request (HTTP 404): check the address"
    return f"{service.name} refused the request (HTTP {status_code})"


def api_message(value: object, limit: int = 200) -> str:
    """A message field of the service's own error envelope, made safe to show: one line of
    printable text, bounded. Only ever read from decoded JSON of a guarded call; never the raw
    body."""
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
