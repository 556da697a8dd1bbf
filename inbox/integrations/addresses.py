"""Where a webhook may point (no SSRF): checked when an admin registers the URL and again
on every delivery, against the addresses its host resolves to at that moment; the
connection then goes to the address checked (inbox.outbox.webhooks), so a DNS answer that
changes between the check and the connection (rebinding) cannot reach inside.

1. Production (WEBHOOK_ALLOW_PRIVATE off, the default unless DEBUG): https only, and every
   address the host resolves to must be public: no loopback, private (RFC 1918, ULA),
   link-local (cloud metadata at 169.254.169.254), shared (100.64/10), multicast,
   reserved or unspecified address.
2. DEBUG, tests and the demo (WEBHOOK_ALLOW_PRIVATE on): http and local addresses too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class Refused(Exception):
    """Why a webhook URL may not be used, in words for the admin."""


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check(url: str, *, resolve: bool = True) -> tuple[str, int, list[str]]:
    """(host, port, the addresses to connect to) for `url`, or Refused saying why."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        raise Refused(_("A webhook URL must start with https://."))
    if not parts.hostname or parts.username or parts.password:
        raise Refused(_("A webhook URL needs a host name, and no user name or password in it."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(_("The URL's port is not a number from 1 to 65535.")) from None
    host = parts.hostname
    if not resolve:
        return host, port, []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_("The host %(host)s does not resolve.") % {"host": host}) from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        inside = [a for a in addresses if not _public(ipaddress.ip_address(a.split("%")[0]))]
        if inside:
            raise Refused(
                _(
                    "The host %(host)s resolves to a private, loopback or reserved address "
                    "(%(inside)s): webhooks only go to the public internet."
                )
                % {"host": host, "inside": ", ".join(inside)}
            )
    return host, port, addresses
