"""Fuzz every listed tool with arguments generated from its own input schema.

Values are drawn near and across each schema's limits (enums in odd case, integers past min/max, dates before
bitcoin and after the frozen "now", wrong JSON types, unknown keys). Each call must end as either a clean tool error
(a message after "Error executing tool X:", no traceback, no "unexpected exception" logged) or a result that
validates against the tool's output schema and carries as_of, sources and warnings. Bounded examples, no deadline:
speed belongs to bench/.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

import anyio
import jsonschema
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mcp import Client

from server.app import build_server
from server.settings import Settings
from tests.conftest import FROZEN_NOW, Sleeps
from tests.e2e.tool_examples import check_common
from tests.fakes import FakeUpstream

EXAMPLES_PER_TOOL = 40
HANG_GUARD_S = 60  # not a speed assertion: a hung call fails instead of hanging the suite

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)

DATES = st.dates(min_value=date(2008, 1, 1), max_value=date(2027, 12, 31))
TIMESTAMPS = st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2027, 1, 1)).map(
    lambda d: d.isoformat() + "Z"
)
AS_OF_LIKE = (
    DATES.map(date.isoformat)
    | TIMESTAMPS
    | st.sampled_from(["", " ", "yesterday", "2025-13-01", "2025-11-24T25:00:00Z", "2025/11/24", "now", "\x00"])
)


def value_strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one property: mostly plausible (in and just outside its bounds), sometimes any JSON at all."""
    if "anyOf" in schema:
        plausible = st.one_of([value_strategy(s) for s in schema["anyOf"]])
    elif "enum" in schema:
        enum = list(schema["enum"])
        odd_case = [e.lower() for e in enum if isinstance(e, str)] + [f" {e} " for e in enum if isinstance(e, str)]
        plausible = st.sampled_from(enum + odd_case + ["", "XRP"])
    elif schema.get("type") == "integer":
        low = int(schema.get("minimum", -1000))
        high = int(schema.get("maximum", 1000))
        plausible = st.integers(low - 3, high + 3) | st.sampled_from([low, high, -1, 0, 10**12])
    elif schema.get("type") == "number":
        plausible = st.floats(allow_nan=False, allow_infinity=False, width=32)
    elif schema.get("type") == "boolean":
        plausible = st.booleans()
    elif schema.get("type") == "null":
        plausible = st.none()
    elif schema.get("type") == "string":
        examples = [e for e in schema.get("examples", []) if isinstance(e, str)]
        plausible = AS_OF_LIKE | st.text(max_size=24) | (st.sampled_from(examples) if examples else st.nothing())
    else:
        plausible = JSON_VALUES
    return st.one_of(plausible, plausible, plausible, JSON_VALUES)  # 3:1 plausible to arbitrary


def arguments_strategy(input_schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = input_schema.get("properties", {})
    known = st.fixed_dictionaries({}, optional={name: value_strategy(p) for name, p in properties.items()})
    unknown = st.dictionaries(st.sampled_from(["foo", "asOf", "limit"]), JSON_VALUES, max_size=1)
    return st.one_of(known, known, known, st.builds(lambda a, b: {**a, **b}, known, unknown))


class UnexpectedErrors(logging.Handler):
    """Catches the SDK's 'raised an unexpected exception' log: a tool bug that escaped as a generic error."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def call_once(server: Any, tool: str, args: dict[str, Any], output_schema: dict[str, Any]) -> None:
    with anyio.fail_after(HANG_GUARD_S):
        async with Client(server) as client:
            result = await client.call_tool(tool, args)
    texts = " ".join(getattr(c, "text", "") for c in result.content)
    assert "Traceback" not in texts
    if result.is_error:
        prefix = f"Error executing tool {tool}: "
        assert texts.startswith(prefix), f"not a clean tool error for {args!r}: {texts!r}"
        assert len(texts) > len(prefix) + 5, f"error says nothing for {args!r}: {texts!r}"
        return
    out = result.structured_content
    assert isinstance(out, dict)
    jsonschema.validate(out, output_schema)
    assert check_common(out) == [], json.dumps(out)[:500]


async def list_schemas(server: Any) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return {t.name: (t.input_schema, t.output_schema or {}) for t in tools}


def fuzz_tool(server: Any, tool: str, input_schema: dict[str, Any], output_schema: dict[str, Any]) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_TOOL,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: CI failures reproduce
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(args=arguments_strategy(input_schema))
    def fuzz(args: dict[str, Any]) -> None:
        anyio.run(call_once, server, tool, args, output_schema)

    fuzz()


def test_fuzzed_arguments_give_clean_errors_or_valid_results(
    fake: FakeUpstream, settings: Settings, sleeps: Sleeps
) -> None:
    server = build_server(settings, transport=fake.transport(), clock=lambda: FROZEN_NOW, sleep=sleeps)
    schemas = anyio.run(list_schemas, server)
    assert schemas, "no tools listed"
    catcher = UnexpectedErrors()
    sdk_log = logging.getLogger("mcp")
    sdk_log.addHandler(catcher)
    try:
        for tool, (input_schema, output_schema) in sorted(schemas.items()):
            fuzz_tool(server, tool, input_schema, output_schema)
    finally:
        sdk_log.removeHandler(catcher)
    assert catcher.messages == []


@pytest.mark.parametrize("schema_type", ["integer", "string", "boolean"])
def test_strategies_cover_their_schema_type(schema_type: str) -> None:
    """Guard the fuzzer itself: each plausible branch yields values of the declared type (among arbitrary ones)."""
    seen: set[type] = set()

    @hypothesis_settings(max_examples=60, database=None, derandomize=True)
    @given(value=value_strategy({"type": schema_type, "minimum": 1, "maximum": 5}))
    def draw(value: Any) -> None:
        seen.add(type(value))

    draw()
    assert {"integer": int, "string": str, "boolean": bool}[schema_type] in seen
