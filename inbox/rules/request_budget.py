"""The arithmetic of X's 15-minute request budgets, per endpoint, for a brand's sources.

Each active Source is polled every `poll_interval`; a poll that finds one page (up to 100
new items) costs one request, so a source costs 900 s / interval requests per window, and
a burst of p pages costs p. X's published limits per 15 minutes:

| endpoint | sources | limit | scope |
| mentions timeline | mentions | 450 | app (Bearer) |
| recent search | listening queries, the relay hashtag | 450 | app (Bearer) |
| DM events | direct messages | 300 | the brand's user token |

A set of sources whose steady cost exceeds an endpoint's limit cannot fit: it is refused
(every window would end in a 429). What is left over is headroom for bursts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

WINDOW_SECONDS = 900

# endpoint: (label, requests per window)
ENDPOINTS: dict[str, tuple[str, int]] = {
    "mentions": ("Mentions timeline (GET /2/users/:id/mentions)", 450),
    "search": ("Recent search (GET /2/tweets/search/recent)", 450),
    "dm_events": ("DM events (GET /2/dm_events)", 300),
}
# Source.Kind value -> the endpoint it spends.
ENDPOINT_OF = {"mentions": "mentions", "search": "search", "relay": "search", "dms": "dm_events"}


@dataclass(frozen=True)
class Line:
    label: str  # the source, as the page names it
    interval_seconds: int
    requests: int  # per window, one page per poll


@dataclass
class Budget:
    endpoint: str
    label: str
    limit: int
    lines: list[Line] = field(default_factory=list)

    @property
    def used(self) -> int:
        return sum(line.requests for line in self.lines)

    @property
    def headroom(self) -> int:
        return self.limit - self.used

    @property
    def over(self) -> int:
        return max(0, -self.headroom)

    @property
    def fits(self) -> bool:
        return self.used <= self.limit


def cost(interval_seconds: int) -> int:
    """Requests one source makes per 15-minute window, one page per poll."""
    return math.ceil(WINDOW_SECONDS / max(interval_seconds, 1))


def budgets(sources: Iterable[tuple[str, str, int]]) -> list[Budget]:
    """`sources`: (kind, label, interval seconds) of the active sources; every endpoint's
    budget, the endpoints without sources included."""
    out = {name: Budget(name, label, limit) for name, (label, limit) in ENDPOINTS.items()}
    for kind, label, seconds in sources:
        out[ENDPOINT_OF[kind]].lines.append(Line(label, seconds, cost(seconds)))
    return list(out.values())


def overspent(result: list[Budget]) -> str:
    """The reason a set of sources cannot fit, or "" when every endpoint fits."""
    over = [b for b in result if not b.fits]
    return " ".join(
        _(
            "%(endpoint)s: %(used)s requests per 15 minutes, over X's limit of %(limit)s; "
            "poll less often or turn a source off."
        )
        % {"endpoint": b.label, "used": b.used, "limit": b.limit}
        for b in over
    )
