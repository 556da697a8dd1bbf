"""Typed readers for settings from the environment.

Every reader fails loudly with ImproperlyConfigured on a malformed value, and a reader
without a default fails on a missing one: a typo in production should stop the start,
not fall back silently.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}  # an empty value never gets here: it is unset


def _raw(name: str, default: object) -> str | object:
    """The variable's value; an empty one counts as unset (docker-compose.yml passes every
    setting as `${NAME:-}`, so one not in .env arrives empty and must mean its default)."""
    value = os.environ.get(name, "")
    if not value.strip():
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def envstr(name: str, default: object = _MISSING) -> str:
    return _raw(name, default)  # type: ignore[return-value]


def envbool(name: str, default: object = _MISSING) -> bool:
    value = _raw(name, default)
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def envint(name: str, default: object = _MISSING, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below its minimum of {minimum}.")
    return number


def envlist(name: str, default: object = _MISSING) -> list[str]:
    value = _raw(name, default)
    if isinstance(value, list):
        return value
    return [item.strip() for item in str(value).split(",") if item.strip()]


def envsecret(name: str) -> str:
    """A secret has no default; an empty or short one is refused as a mistake."""
    value = envstr(name)
    if len(value) < 32:
        raise ImproperlyConfigured(f"{name} must be at least 32 characters long.")
    return value


def envdecimal(name: str, default: str) -> Decimal:
    """A non-negative decimal amount (a price), e.g. 0.015."""
    value = str(_raw(name, default)).strip()
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"{name} must be a decimal amount, e.g. 0.015: {value!r}"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ImproperlyConfigured(f"{name} must be a decimal amount of 0 or more: {value!r}")
    return amount
