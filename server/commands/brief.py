"""`windvane brief`: the market commentary (server/brief/), or the assessment's JSON, and optionally its charts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import httpx

    from server.brief.gather import BriefInputs
    from server.settings import Settings
    from tools.args import Asset

NAME = "brief"
HELP = "print a market commentary: risk assets, evidence, BTC's re-rating, liquidity, outlook (and charts)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--asset", default="BTC", type=str.upper, choices=["BTC", "ETH"])
    parser.add_argument("--as-of", dest="as_of", default=None, help="UTC date (end of day) or ISO datetime")
    parser.add_argument("--json", action="store_true", help="print the assessment tool's structured output as JSON")
    parser.add_argument("--charts", metavar="DIR", type=Path, default=None, help="also write the charts as PNG to DIR")


async def brief_inputs(
    settings: Settings,
    asset: Asset,
    as_of: str | None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> BriefInputs:
    from server.brief.gather import gather_brief
    from server.runtime import open_deps
    from tools.point_in_time import PointInTime

    async with open_deps(settings, transport=transport, clock=clock) as deps:
        pit = PointInTime.parse(as_of, deps.clock())
        return await gather_brief(deps, asset, as_of, pit)


async def brief_text(
    settings: Settings,
    asset: Asset,
    as_of: str | None,
    as_json: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """The brief as plain text, or the assessment tool's JSON (exactly what the tool returns)."""
    if as_json:
        from server.runtime import open_deps
        from tools.assess.tool import SPEC, AssessArgs
        from tools.point_in_time import PointInTime

        async with open_deps(settings, transport=transport) as deps:
            pit = PointInTime.parse(as_of, deps.clock())
            result = await SPEC.run_within_deadline(deps, AssessArgs(asset=asset, as_of=as_of), pit)
        return json.dumps(result.model_dump(mode="json"), indent=2)
    from server.brief.compose import compose
    from server.brief.plain import render_plain

    return render_plain(compose(await brief_inputs(settings, asset, as_of, transport)))


def write_charts(inputs: BriefInputs, directory: Path) -> list[Path]:
    from server.charts import brief_charts

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in brief_charts(inputs):
        path = directory / f"{name}.png"
        path.write_bytes(png)
        written.append(path)
    return written


def _print(inputs: BriefInputs, as_json: bool) -> None:
    if as_json:
        print(json.dumps(inputs.assessment.model_dump(mode="json"), indent=2))
        return
    from server.brief.compose import compose

    doc = compose(inputs)
    if sys.stdout.isatty():
        from server.brief.rich_view import print_rich

        print_rich(doc)
    else:
        from server.brief.plain import render_plain

        print(render_plain(doc))


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from tools.errors import InputError

    if args.charts is not None:
        try:  # before any upstream is asked: a directory that cannot be written fails at once
            args.charts.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"windvane brief: cannot write charts to {args.charts}: {exc}", file=sys.stderr)
            return 2
    try:
        if args.json and args.charts is None:
            text = anyio.run(brief_text, settings, args.asset, args.as_of, True)
            return _emit(lambda: print(text))
        inputs = anyio.run(brief_inputs, settings, args.asset, args.as_of)
    except InputError as exc:
        print(f"windvane brief: {exc}", file=sys.stderr)
        return 2
    if args.charts is not None:
        try:
            for path in write_charts(inputs, args.charts):
                print(f"wrote {path}", file=sys.stderr)
        except OSError as exc:
            print(f"windvane brief: cannot write charts to {args.charts}: {exc}", file=sys.stderr)
            return 2
    return _emit(lambda: _print(inputs, args.json))


def _emit(write: Callable[[], None]) -> int:
    """Print, and end quietly when the reader has gone (`windvane brief | head`)."""
    import os

    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
    return 0
