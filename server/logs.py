"""Logging to stderr only: under stdio, stdout carries the protocol and nothing else may write there.

Lines are structured: `key=value` text by default, one JSON object per line with WINDVANE_LOG_FORMAT=json. Each line
carries the request id of the HTTP request it belongs to (a context variable set by the HTTP layer). Configured
secrets (API keys, the HTTP token) are masked in every line, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("windvane_request_id", default="-")

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged as a field.
# uvicorn adds `color_message` (the same text with ANSI colours) to its records: not a field worth a log line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class StructuredFormatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        base: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            base["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            base["exc"] = record.exc_text
        if self.as_json:
            return json.dumps(base, default=str)
        return " ".join(f"{k}={_text(v)}" for k, v in base.items())


def _text(value: object) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or "=" in text or not text) else text


class RedactSecrets(logging.Filter):
    """Masks configured secrets (every form `fetchers.redact.Redactor` knows) in the final message, in extra
    fields and in tracebacks."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        from fetchers.redact import Redactor

        self.redactor = Redactor(secrets)

    @property
    def secrets(self) -> frozenset[str]:
        return self.redactor.secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        if self.redactor:
            mask = self.redactor.mask
            record.msg = mask(record.getMessage())
            record.args = None
            for key, value in _fields(record).items():
                if isinstance(value, str):
                    setattr(record, key, mask(value))
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StructuredFormatter(as_json=os.environ.get("WINDVANE_LOG_FORMAT", "").lower() == "json"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs full request URLs at INFO; keep them out of logs (a query may one day carry something private).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def add_secrets(secrets: Iterable[str]) -> None:
    """Mask these too, once settings (and so the keys) are known."""
    for handler in logging.getLogger().handlers:
        for filt in handler.filters:
            if isinstance(filt, RedactSecrets):
                filt.redactor = filt.redactor.with_secrets(secrets)
