"""Starting and stopping `windvane serve` by hand: a one-line banner on a terminal, and one Ctrl-C or SIGTERM ends
the process at once with exit 0 and no traceback.

stdio: the SDK reads stdin in a worker thread that no cancellation reaches (it sits in readline until a line or EOF
comes), so asyncio's own Ctrl-C handling waits on it, needs a second Ctrl-C and prints a traceback. Every store write
is one SQLite transaction (a killed process loses nothing committed), so the handler flushes and ends the process.
HTTP: uvicorn stops gracefully on the first signal (closes the listener, gives requests in flight GRACE_S, runs the
lifespan shutdown that closes the store), then re-raises the signal to the handler that was there before it: this
module's, which exits with 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How long uvicorn lets requests in flight finish after a stop signal before it cancels them.
GRACE_S = 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # closed, or held by the interrupted thread
            stream.flush()


def _end_process(signum: int, frame: FrameType | None) -> None:
    _flush()
    os._exit(0)


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_stdio_on_signals() -> None:
    for sig in SIGNALS:
        signal.signal(sig, _end_process)


def stop_http_on_signals() -> None:
    for sig in SIGNALS:
        signal.signal(sig, _exit_zero)


def banner(text: str) -> None:
    """One line on stderr for a person at a terminal; clients and log collectors, which are not, never see it."""
    if sys.stderr.isatty():
        print(f"{text} Ctrl-C stops it.", file=sys.stderr, flush=True)
