"""Browser tests: the fixtures live in tests/chromium.py (a suite-wide plugin)."""

from tests.chromium import log_in

__all__ = ["log_in"]
