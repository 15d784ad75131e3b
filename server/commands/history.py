"""`windvane history [--series TEXT ...]`: what the history store holds: series, first and last timestamp, rows."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings

NAME = "history"
HELP = "show the series in the history store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--series",
        action="append",
        default=[],
        metavar="TEXT",
        help="only series whose name (source/metric/asset/venue) contains TEXT; repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


async def execute(args: argparse.Namespace, settings: Settings, *, store: Any = None) -> str:
    from server.stores import open_store

    opened = store if store is not None else open_store(settings)
    try:
        rows = await opened.summary()
    finally:
        if store is None:
            await opened.close()
    needles = [n.lower() for n in args.series]
    rows = [r for r in rows if not needles or any(n in r.key.label().lower() for n in needles)]
    if args.json:
        import json

        return json.dumps(
            [
                {
                    "series": r.key.label(),
                    "source": r.key.source,
                    "metric": r.key.metric,
                    "asset": r.key.asset,
                    "venue": r.key.venue,
                    "first": r.first_ts.isoformat(),
                    "last": r.last_ts.isoformat(),
                    "rows": r.rows,
                }
                for r in rows
            ],
            indent=2,
        )
    if not rows:
        return "no stored series" + (" match" if needles else "")
    labels = [r.key.label() for r in rows]
    width = max(len("series"), *(len(label) for label in labels))
    lines = [f"{'series':<{width}}  {'first':<20}  {'last':<20}  {'rows':>8}"]
    for label, r in zip(labels, rows, strict=True):
        lines.append(f"{label:<{width}}  {r.first_ts:%Y-%m-%dT%H:%M:%SZ}  {r.last_ts:%Y-%m-%dT%H:%M:%SZ}  {r.rows:>8}")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import sys

    import anyio

    from server.stores import store_location, unavailable
    from store.base import StoreError

    try:
        text = anyio.run(execute, args, settings)
    except StoreError as exc:
        print(unavailable(exc), file=sys.stderr)
        return 1
    if not args.json:
        print(f"# {store_location(settings)}")
    print(text)
    return 0
