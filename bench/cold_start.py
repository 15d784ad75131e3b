"""Cold start: spawn -> initialize -> tools/list over stdio, windvane against a minimal SDK server. Goal <= 1.5x.

    python bench/cold_start.py [--runs 10]

Runs alternate (windvane, baseline, windvane, ...) so background load hits both alike; medians are compared.
The baseline is bench/noop_server.py: the same SDK and interpreter, one tool. Start-up imports stay lazy; see
`python -X importtime -m server serve` for what loads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import _support as S


def spawn_to_tools_list(argv: list[str], env: dict[str, str] | None) -> tuple[float, int]:
    started = time.perf_counter()
    peer = S.StdioPeer(argv, env)
    try:
        peer.initialize()
        tools = peer.request("tools/list")["result"]["tools"]
        elapsed = time.perf_counter() - started
    finally:
        peer.close()
    return elapsed, len(tools)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    windvane: list[float] = []
    noop: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = S.windvane_env("http://127.0.0.1:9", Path(tmp))  # no upstream is called before a tool runs
        for _ in range(args.runs):
            t, n = spawn_to_tools_list([sys.executable, "-m", "server", "serve"], env)
            windvane.append(t)
            noop.append(spawn_to_tools_list([sys.executable, str(S.REPO / "bench" / "noop_server.py")], None)[0])
    print(f"cold start (spawn -> tools/list over stdio), {args.runs} runs each; {S.machine()}; {S.stamp()}")
    print(f"  windvane ({n} tools)  median {S.ms(median(windvane))}  min {S.ms(min(windvane))}")
    print(f"  minimal SDK server   median {S.ms(median(noop))}  min {S.ms(min(noop))}")
    print(
        f"  ratio: median {median(windvane) / median(noop):.2f}x, min {min(windvane) / min(noop):.2f}x (goal <= 1.5x)"
    )


if __name__ == "__main__":
    main()
