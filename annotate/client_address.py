"""The client's address, as the sign-in lockout and the token throttle count it.

By default it is the connection's ``REMOTE_ADDR`` and ``X-Forwarded-For`` is ignored: any client can
send that header, so trusting it would let a guesser name a new address on every attempt and never
reach the per-address limit. Behind reverse proxies, ANNOTATE_TRUSTED_PROXIES says how many there are
in front of the app: each appends the address it received the request from, so the client is the
N-th entry from the right, and whatever the client itself put further left is ignored. A header with
fewer entries than that (a request that did not come through every proxy) or an entry that is not an
IP address counts as ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def client_address(request: Any) -> str | None:
    """The address to count failures and requests against (django-axes' AXES_CLIENT_IP_CALLABLE)."""
    meta = getattr(request, "META", {})
    remote: str | None = meta.get("REMOTE_ADDR")
    proxies = int(settings.ANNOTATE_TRUSTED_PROXIES)
    if proxies == 0:
        return remote
    hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
