"""The client's address, as rate limits and logs count it.

`TRUSTED_PROXIES` says which hops in front of the app may be believed: a count of
proxies (`1` for one load balancer) or comma-separated CIDRs of the proxies'
addresses. The chain is `X-Forwarded-For` followed by REMOTE_ADDR; the client is
found from the right, skipping trusted proxies, so whatever a caller writes into
the header itself (on the left) never changes whose limit is counted. With no
proxy trusted (the default) the address is REMOTE_ADDR and the header is ignored.
"""

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:  # settings.py imports this module: keep its imports light.
    from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Trust = int | tuple[Network, ...]


@functools.cache
def parse_trusted_proxies(raw: str) -> Trust:
    """`""` or `0`: none; `2`: that many proxies; `10.0.0.0/8,...`: those networks.

    ValueError names what cannot be read.
    """
    text = raw.strip()
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    networks = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES must be a count of proxies or comma-separated "
                f"CIDRs, got {item.strip()!r}."
            ) from None
    return tuple(networks)


def _address(value: str) -> str | None:
    """A normalised IP address, or None for anything else (ports are dropped)."""
    text = value.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_address(remote_addr: str, forwarded_for: str | None, trust: Trust) -> str:
    """The client in the chain `forwarded_for, remote_addr` under `trust`."""
    remote = _address(remote_addr) or remote_addr
    if not trust or not forwarded_for:
        return remote
    hops: Sequence[str] = [*forwarded_for.split(","), remote]
    if isinstance(trust, int):
        # The last `trust` hops are the proxies; the one before them is the
        # client. A shorter chain than promised: the first hop there is.
        index = max(len(hops) - 1 - trust, 0)
        return _address(hops[index]) or remote
    client = remote
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A trusted proxy wrote something that is no address: count the
            # proxy rather than a value the caller might choose.
            return client
        client = address
        if not any(ipaddress.ip_address(address) in net for net in trust):
            return client
    return client


def client_ip(request: "HttpRequest") -> str:
    """The request's client address under the `TRUSTED_PROXIES` setting."""
    return meta_client_ip(request.META)


def meta_client_ip(meta: Mapping[str, Any]) -> str:
    """The client address of a request's `META` under `TRUSTED_PROXIES`."""
    trust = parse_trusted_proxies(str(getattr(settings, "TRUSTED_PROXIES", "")))
    return client_address(
        str(meta.get("REMOTE_ADDR") or ""), meta.get("HTTP_X_FORWARDED_FOR"), trust
    )
