"""Drift mutations of real payloads, for the property tests in tests/test_parsers_drift*.py.

A case is one parser and one healthy body in its upstream's exact format (a real capture from ../shared/payloads, or
what a fake in tests/fakes builds from ../shared/data). The mutations are the faults issue 13 names: a body cut at a
byte offset, one column dropped from an array row, one field replaced by a value of another type, one key renamed.
The property: the parser either raises BadPayloadError naming its source, or returns exactly the healthy parse
(the mutation touched something it does not read). Anything else (a different value, another exception) fails.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fetchers.errors import BadPayloadError

# Skips without ../shared on a fresh clone, fails where it is required (CI): the `shared_data` fixture decides.
needs_shared = pytest.mark.usefixtures("shared_data")

# 40 examples per (parser, mutation) keep the suite fast; WINDVANE_DRIFT_EXAMPLES=1000 searches harder.
EXAMPLES = int(os.environ.get("WINDVANE_DRIFT_EXAMPLES", "40"))
DRIFT_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Path = tuple[str | int, ...]
Parse = Callable[[httpx.Response], Any]


def response(body: bytes | str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(200, content=content, request=httpx.Request("GET", "http://fake.test/drift"))


def outcome(parse: Parse, body: bytes | str, source: str) -> tuple[str, Any]:
    """("value", parsed) or ("refused", message); a BadPayloadError must name `source`."""
    try:
        return "value", parse(response(body))
    except BadPayloadError as exc:
        error = exc
    assert error.source == source, f"error names {error.source!r}, expected {source!r}: {error}"
    assert str(error).startswith(f"{source}: "), str(error)
    assert error.message, "an error without a reason"
    return "refused", error.message


# -- JSON documents -------------------------------------------------------------------------------------------------


def _walk(doc: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _walk(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _walk(value, (*path, i))


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def get_at(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _parent(doc: Any, path: Path) -> Any:
    return get_at(doc, path[:-1])


def key_of(path: Path) -> str | None:
    """The object key a path ends in (the nearest one, for a value inside a list)."""
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return None


@dataclass
class JsonCase:
    """One parser on one healthy JSON body.

    `optional`: keys documented (or seen) to be absent at times; renaming one, or nulling it, must give exactly the
    parse of the body without it. `nullable`: keys whose JSON null is a documented "no figure" (not mutated to null).
    `either_form`: keys whose number may come as a JSON number or a numeric string (not mutated across forms).
    `maps`: keys whose object is keyed by data (CoinGlass's data_map by exchange), not by field names.
    """

    name: str
    source: str
    parse: Parse
    body: Callable[[], Any]  # the healthy document, decoded (built lazily: ../shared may be absent)
    optional: frozenset[str] = frozenset()
    nullable: frozenset[str] = frozenset()
    either_form: frozenset[str] = frozenset()
    maps: frozenset[str] = frozenset()
    raw: Callable[[Any], str] = field(default=json.dumps)  # how the document goes on the wire

    def __str__(self) -> str:
        return self.name

    @cached_property
    def doc(self) -> Any:
        return self.body()

    @cached_property
    def text(self) -> str:
        return self.raw(self.doc)

    @cached_property
    def healthy(self) -> Any:
        kind, value = outcome(self.parse, self.text, self.source)
        assert kind == "value", f"the healthy body of {self.name} is refused: {value}"
        return value

    @cached_property
    def leaves(self) -> list[Path]:
        return [p for p, v in _walk(self.doc) if p and _is_scalar(v)]

    @cached_property
    def rows(self) -> list[Path]:
        """Array rows: non-empty lists of scalars (a kline, a book level, a time list)."""
        return [p for p, v in _walk(self.doc) if isinstance(v, list) and v and all(_is_scalar(x) for x in v)]

    @cached_property
    def keys(self) -> list[Path]:
        return [p for p, _ in _walk(self.doc) if p and isinstance(p[-1], str) and key_of(p[:-1]) not in self.maps]

    def without(self, path: Path) -> Any:
        doc = copy.deepcopy(self.doc)
        del _parent(doc, path)[path[-1]]
        return doc

    def check(self, mutated: Any, touched: Path | None = None, *, body: bytes | None = None) -> None:
        """The property, for one mutated document (or a raw body)."""
        kind, value = outcome(self.parse, self.raw(mutated) if body is None else body, self.source)
        if kind == "refused" or value == self.healthy:
            return
        if touched is not None and key_of(touched) in self.optional and isinstance(touched[-1], str):
            # A documented-optional key: renamed or nulled, it must read exactly as absent.
            assert value == self.parse(response(self.raw(self.without(touched)))), (self.name, touched)
            return
        pytest.fail(f"{self.name}: mutation at {touched} gave a value that differs from the healthy parse")


def _other_type(original: Any, nullable: bool) -> st.SearchStrategy[Any]:
    """A value of another JSON type than `original` (type drift, not a different value of the same type).

    A null in a nullable field is "no figure": a number there is a figure, not drift, so it is not generated.
    """
    base: list[st.SearchStrategy[Any]] = [
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.lists(st.integers(), max_size=2),
    ]
    if not isinstance(original, bool):
        base.append(st.booleans())
    if isinstance(original, str):
        base.append(st.integers(min_value=-(10**15), max_value=10**15) | st.floats(allow_nan=False, width=32))
    elif isinstance(original, int | float) and not isinstance(original, bool):
        base.append(st.text(max_size=8))  # numeric strings included: a number's form is part of the format
    elif isinstance(original, bool):
        base.extend([st.integers(), st.text(max_size=8)])
    else:  # null
        base.append(st.text(max_size=8))
        if not nullable:
            base.append(st.integers())
    return st.one_of(base)


@st.composite
def retyped(draw: st.DrawFn, case: JsonCase) -> tuple[Any, Path]:
    path = draw(st.sampled_from(case.leaves))
    original = get_at(case.doc, path)
    key = key_of(path)
    other = _other_type(original, key in case.nullable)
    value = draw(other | st.none() if original is not None else other)
    if value is None and key in case.nullable:
        value = True
    if key in case.either_form and isinstance(value, int | float | str) and not isinstance(value, bool):
        value = {"drift": value}  # this key is documented in both forms: change its type, not its form
    doc = copy.deepcopy(case.doc)
    _parent(doc, path)[path[-1]] = value
    return doc, path


@st.composite
def column_dropped(draw: st.DrawFn, case: JsonCase) -> tuple[Any, Path]:
    path = draw(st.sampled_from(case.rows))
    row = get_at(case.doc, path)
    column = draw(st.integers(min_value=0, max_value=len(row) - 1))
    doc = copy.deepcopy(case.doc)
    del get_at(doc, path)[column]
    return doc, (*path, column)


@st.composite
def renamed(draw: st.DrawFn, case: JsonCase) -> tuple[Any, Path]:
    path = draw(st.sampled_from(case.keys))
    doc = copy.deepcopy(case.doc)
    parent = _parent(doc, path)
    # Rebuilt in order, so only the name changes, not the key's position.
    items = [(f"{k}_renamed" if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return doc, path


def truncations(text: str) -> st.SearchStrategy[bytes]:
    """The body cut at a byte offset: always a strict prefix, never the whole body."""
    raw = text.encode()
    return st.integers(min_value=0, max_value=len(raw) - 1).map(lambda cut: raw[:cut])
