"""Keyset cursors: the position of a list's last row as a URL-safe token (`?after=`).

Every paged list (queue, audit trail, public stream, team, credits) keeps its place by
the values of its sort key, never by OFFSET. A token is those values in order, joined by
"_": an integer as it is, an aware datetime as whole microseconds since 1970 (a float
would round and skip or repeat rows), a string as the hex of its UTF-8. Callers treat it
as opaque.

`decode` is given the kinds it expects and answers None for anything else: a missing,
stale, truncated or hand-made token starts the list from the top, never an error page.
A well-formed token that names a position nobody was shown is harmless: it is only where
a page starts, and the list's own filters (brand, role) still apply.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_INT = re.compile(r"-?[0-9]{1,19}")  # ASCII only: int() would take "٣" or " 3"
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
_BIGINT = 2**63  # PostgreSQL's bigint: a larger id could only fail in the database

Part = int | datetime | str


def encode(*parts: Part) -> str:
    """The token for a position, e.g. encode(thread.priority, thread.waiting_since, thread.id)."""
    return "_".join(_encode(part) for part in parts)


def decode(token: str, *kinds: type[Part]) -> tuple[Part, ...] | None:
    """The position in `token` as values of `kinds` (int, datetime or str), or None."""
    pieces = token.split("_") if token else []
    if len(pieces) != len(kinds):
        return None
    values = [_decode(piece, kind) for piece, kind in zip(pieces, kinds, strict=True)]
    return None if any(v is None for v in values) else tuple(values)  # type: ignore[misc]


def _encode(part: Part) -> str:
    if isinstance(part, datetime):
        return str((part - EPOCH) // _MICRO)
    if isinstance(part, str):
        return part.encode().hex()
    return str(int(part))


def _decode(piece: str, kind: type[Part]) -> Part | None:
    if kind is str:
        if not _HEX.fullmatch(piece):
            return None
        try:
            return bytes.fromhex(piece).decode()
        except UnicodeDecodeError:
            return None
    if not _INT.fullmatch(piece) or not -_BIGINT <= int(piece) < _BIGINT:
        return None
    if kind is datetime:
        try:
            return EPOCH + int(piece) * _MICRO
        except OverflowError:
            return None
    return int(piece)
