"""Logging filters (settings.LOGGING): no Django imports, the logging config loads first."""

from __future__ import annotations

import logging


class ExpectedErrors(logging.Filter):
    """On django.request: an expected 403, 404 or 405 is one line, without a traceback
    ("Forbidden (Permission denied): /team/"); a 500 keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404, 405):
            record.exc_info = None
            record.exc_text = None
        return True


class BeatTicks(logging.Filter):
    """On celery.beat: not its line per task sent (one every few seconds from an idle
    deployment); its start, its schedule problems and its errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Scheduler: Sending due task")
