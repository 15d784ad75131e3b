"""`windvane doctor`: which upstreams this host reaches, the store, the keys; exit 1 when a default keyless source
is unreachable. The report is also saved beside the store, where `windvane://sources` reads it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.doctor import DoctorReport
    from server.settings import Settings

NAME = "doctor"
HELP = "check which upstreams this host can reach, the store and the keys"
MAX_TIMEOUT_S = 9.0  # the whole run stays within 10 s


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"use a timeout above 0 and at most {MAX_TIMEOUT_S:g} s")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=_timeout, default=5.0, help="seconds per request (default 5; all run at once)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


STATE_LABELS = {
    "reachable": "reachable",
    "blocked": "blocked",
    "unreachable": "UNREACHABLE",
    "not_configured": "not configured",
    "skipped": "skipped",
}


def render(report: DoctorReport, saved: str | None) -> str:
    width = max(len(s) for s in report.sources)
    lines = [f"windvane {report.windvane_version} doctor, {report.checked_at} (timeout {report.timeout_s:g} s)", ""]
    lines.append(f"{'source':{width}}  {'state':14}  {'detail':48}  endpoint")
    for source, result in report.sources.items():
        detail = result.detail + (f" in {result.elapsed_ms:.0f} ms" if result.elapsed_ms is not None else "")
        lines.append(f"{source:{width}}  {STATE_LABELS[result.state]:14}  {detail:48}  {result.endpoint}")
    store = report.store
    lines += ["", f"store: {store.path} ({'writable' if store.writable else 'NOT writable'}: {store.detail})"]
    lines.append("keys:  " + ", ".join(f"{var} {'set' if on else 'not set'}" for var, on in report.keys.items()))
    if saved:
        lines.append(f"saved: {saved} (windvane://sources shows it)")
    if report.unreachable_defaults:
        lines.append(
            f"result: {len(report.unreachable_defaults)} default keyless source(s) unreachable: "
            f"{', '.join(report.unreachable_defaults)}; check the network, a proxy (HTTPS_PROXY) or a firewall"
        )
    else:
        lines.append("result: every default keyless source answered")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from server.doctor import run_doctor, save_report
    from server.logs import add_secrets
    from server.version import version

    add_secrets(settings.api_keys.values())  # FRED's key rides in a query string; no log line may carry it
    report = anyio.run(lambda: run_doctor(settings, timeout_s=args.timeout, version=version()))
    saved = save_report(settings, report)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render(report, str(saved) if saved else None))
    if not report.store.writable:
        print(f"windvane doctor: the store {report.store.path} is not writable", file=sys.stderr)
    return 1 if report.unreachable_defaults else 0
