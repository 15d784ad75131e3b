"""Charts: `chart=true` returns a PNG as MCP image content beside the unchanged structured result; lazily loaded."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from tests.fakes import FakeUpstream

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
CHARTED = {
    "get_coinbase_premium": {"days": 30},
    "get_etf_flows": {"days": 30},
    "exchange_reserve_trend": {},
    "assess_rebound_vs_reversal": {},
}


def png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.verify()
        assert image.format == "PNG"
        return image.size


def without_fetch_times(out: dict[str, Any]) -> dict[str, Any]:
    # Two servers fetch the same payloads at slightly different wall-clock times.
    # Concurrent sub-calls finish in either order: sources and warnings are compared as sets.
    drop = ("fetched_at", "age_seconds")
    sources = sorted(json.dumps({k: v for k, v in s.items() if k not in drop}) for s in out["sources"])
    return {**out, "sources": sources, "warnings": sorted(out["warnings"])}


@pytest.mark.parametrize("tool", sorted(CHARTED))
async def test_chart_arrives_as_image_content(tool: str, make_client: Any, tmp_path: Path) -> None:
    from tests.conftest import make_settings

    args = {**CHARTED[tool], "as_of": "2025-11-24"}
    # Each call on a server of its own (own store), so neither is answered from what the other stored.
    async with make_client() as client:
        plain = await client.call_tool(tool, args)
    async with make_client(settings_=make_settings(tmp_path / "charted")) as client:
        charted = await client.call_tool(tool, {**args, "chart": True})
    assert not charted.is_error, charted.content
    images = [c for c in charted.content if c.type == "image"]
    assert len(images) == 1
    assert images[0].mime_type == "image/png"
    width, height = png_size(base64.b64decode(images[0].data))
    assert width >= 800
    assert height >= 450
    assert [c.type for c in plain.content] == ["text"]  # no chart unless asked for
    # The structured result is the one the tool gives without a chart, and the text block mirrors it.
    assert without_fetch_times(charted.structured_content) == without_fetch_times(plain.structured_content)
    assert json.loads(charted.content[0].text) == charted.structured_content


async def test_only_the_charted_tools_take_chart(make_client: Any) -> None:
    async with make_client() as client:
        tools = (await client.list_tools()).tools
    takes = {t.name for t in tools if "chart" in t.input_schema.get("properties", {})}
    assert takes == set(CHARTED)
    for t in tools:
        if t.name in takes:
            assert t.input_schema["properties"]["chart"]["default"] is False


async def test_nothing_to_draw_keeps_the_result_and_says_why() -> None:
    from schemas.premium import CoinbasePremium
    from server.chart_content import chart_blocks

    empty = CoinbasePremium.model_validate({
        "as_of": "2025-11-24T23:59:59Z", "asset": "BTC", "interval": "1d", "history": [], "avg_7d_pct": None,
        "avg_30d_pct": None, "warnings": ["coinbase: HTTP 503"],
        "streak": {"sign": None, "days": None, "since": None},
        "current": {"premium_pct": None, "premium_usd": None, "coinbase_price": None, "reference_price": None,
                    "reference_venue": None, "usdt_usd": None, "premium_usdt_adjusted_pct": None, "ts": None},
    })  # fmt: skip
    out = await chart_blocks("get_coinbase_premium", empty)
    assert [c.type for c in out] == ["text"]
    assert out[0].text == "chart unavailable: no premium history to draw"  # type: ignore[union-attr]


async def test_a_slow_chart_is_dropped_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import server.chart_content as chart_content
    import server.charts as charts
    from schemas.common import ToolResult

    def slow(tool: str, result: ToolResult) -> bytes:
        time.sleep(1.0)
        return b""

    monkeypatch.setattr(charts, "chart_png", slow)
    monkeypatch.setattr(chart_content, "CHART_BUDGET_S", 0.05)
    result = ToolResult.model_validate({"as_of": "2025-11-24T00:00:00Z"})
    out = await chart_content.chart_blocks("get_coinbase_premium", result)
    # The budget, not the drawing, ended the wait: the drawing would have returned b"" (an image block).
    assert [c.type for c in out] == ["text"]
    assert out[0].text == "chart unavailable: not drawn within 0.05 s"  # type: ignore[union-attr]


def test_a_chartless_tool_has_no_chart() -> None:
    from schemas.common import ToolResult
    from server.charts import chart_png

    with pytest.raises(ValueError, match="get_macro_backdrop has no chart"):
        chart_png("get_macro_backdrop", ToolResult.model_validate({"as_of": "2025-11-24T00:00:00Z"}))


LOADED = """
import sys, anyio
from pathlib import Path
import server.app
after_import = "matplotlib" in sys.modules
from mcp import Client
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import default_fake

async def main():
    mcp = server.app.build_server(make_settings(Path(sys.argv[1])), transport=default_fake().transport(),
                                  clock=lambda: FROZEN_NOW)
    async with Client(mcp) as client:
        result = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "chart": sys.argv[2] == "1"})
        assert not result.is_error, result.content
    print(after_import, "matplotlib" in sys.modules)

anyio.run(main)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("chart", "loaded"), [(False, "False False"), (True, "False True")])
def test_matplotlib_loads_only_for_a_chart(fake: FakeUpstream, settings: Settings, chart: bool, loaded: str) -> None:
    # A fresh interpreter: this test process may have imported matplotlib for another test already.
    done = subprocess.run(
        [sys.executable, "-c", LOADED, str(settings.db_path.parent), "1" if chart else "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == loaded.split()
