"""windvane's version, read from the installed distribution's metadata: pyproject.toml is its one source."""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("windvane")
    except metadata.PackageNotFoundError:  # a source tree run without installing it (PYTHONPATH=.)
        return "0+unknown"
