"""A stdlib progress bar on stderr: redrawn in place on a terminal, one line per 10% step otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, label: str, done: int, total: int) -> None:
        fraction = 1.0 if total <= 0 else min(1.0, done / total)
        filled = round(self.width * fraction)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {done}/{total} {label}"
        if self._tty:
            self.stream.write("\r\x1b[2K" + line + ("\n" if done >= total else ""))
            self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile != self._last_decile or done >= total:
            self._last_decile = decile
            self.stream.write(line + "\n")
            self.stream.flush()
