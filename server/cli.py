"""The `windvane` command. Parsing is cheap; each sub-command imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from server.commands import COMMAND_MODULES

if TYPE_CHECKING:
    from server.settings import Settings


def _parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    from server.version import version

    parser = argparse.ArgumentParser(prog="windvane", description="Crypto market-structure MCP server.")
    parser.add_argument("--version", action="version", version=f"windvane {version()}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, object] = {}
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
        commands[module.NAME] = module
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    from server.logs import configure_logging
    from server.settings import SettingsError, load_settings

    configure_logging(args.log_level)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"windvane: configuration error: {exc}", file=sys.stderr)
        return 2
    from server.logs import add_secrets

    add_secrets(settings.secrets)  # whatever logs what, a configured key or token never reaches a log line
    mask_output(settings, protocol_on_stdout=args.command == "serve")
    module = commands[args.command]
    return int(module.run(args, settings))  # type: ignore[attr-defined]


class _MaskedStream:
    """A text stream that masks configured secrets in everything written to it (CLI output, tracebacks)."""

    def __init__(self, stream: TextIO, mask: Callable[[str], str]) -> None:
        self._stream = stream
        self._mask = mask

    def write(self, text: str) -> int:
        self._stream.write(self._mask(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def mask_output(settings: Settings, *, protocol_on_stdout: bool) -> None:
    """Mask every configured secret in what commands print. Under `serve`, stdout may carry the MCP protocol,
    which the tool handlers already mask: it is left as it is."""
    redactor = settings.redactor()
    if not redactor:
        return
    if not protocol_on_stdout:
        sys.stdout = _MaskedStream(sys.stdout, redactor.mask)
    sys.stderr = _MaskedStream(sys.stderr, redactor.mask)
