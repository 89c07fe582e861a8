"""Which Host names the dashboard answers to: stdlib only, so that the server refuses a bad
bind before it imports the web framework, and the app checks each request against the same
rule."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound_host: str) -> frozenset[str]:
    """The Host names a request may carry: the one bound to, and for a loopback bind the
    loopback names. Anything else is a page elsewhere that rebound its name to this address
    (DNS rebinding), and is refused."""
    names = {bound_host.strip("[]").lower()}
    if is_loopback(bound_host.strip("[]")):
        names |= LOOPBACK_NAMES
    return frozenset(names)
