"""Argument types shared by the tools: one place for each argument's schema, validation and description."""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from tools.errors import InputError
from tools.point_in_time import AS_OF_PATTERN, quoted

Asset = Literal["BTC", "ETH"]
SUPPORTED_ASSETS: tuple[Asset, ...] = ("BTC", "ETH")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def parse_asset(value: object) -> Asset:
    """An asset given outside a tool's input model (the `market_brief` prompt), read as the tools read it."""
    upper = _upper(value)
    if upper not in SUPPORTED_ASSETS:
        raise InputError(f"asset {quoted(value)} is not supported; use one of: {', '.join(SUPPORTED_ASSETS)}")
    return upper


def _kinds(annotation: Any) -> set[type]:
    """The Python types a field's annotation takes as themselves (`object` for Any; a Literal's values' types)."""
    if annotation is Any:
        return {object}
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return {kind for arg in get_args(annotation) for kind in _kinds(arg)}
    if origin is Literal:
        return {type(arg) for arg in get_args(annotation)}
    return {annotation} if isinstance(annotation, type) else {object}


def _wrong_kind(value: object, kinds: set[type]) -> str | None:
    """Why `value` is not what a field of these kinds takes, for the loose readings pydantic would allow: a boolean
    read as 1 or 0, a numeric string or a whole float read as an integer. None when it is fine (or for pydantic)."""
    if object in kinds or type(value) in kinds:
        return None
    numeric = bool(kinds & {int, float})
    if isinstance(value, bool):
        return "does not take a boolean (true/false)"
    if numeric and isinstance(value, str) and str not in kinds:
        return "takes a number, not text"
    if isinstance(value, float) and int in kinds and float not in kinds:
        return "takes an integer"
    return None


def check_arguments(fields: Mapping[str, FieldInfo], data: object) -> object:
    """Arguments as given, refused at the edge when a name is unknown (a typo would otherwise silently answer for
    the defaults) or a value only loosely fits its type (`days=True` is not 1, `days="30"` is text). Generic over
    any input model's fields."""
    if not isinstance(data, Mapping):
        return data
    unknown = [name for name in data if name not in fields]
    if unknown:
        name = str(unknown[0])
        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise PydanticCustomError(
            "unknown_argument",
            "{detail}",
            {"detail": f"unknown argument {quoted(name)}{more}{hint}; valid arguments: {', '.join(fields)}"},
        )
    for name, value in data.items():
        why = _wrong_kind(value, _kinds(fields[name].annotation))
        if why is not None:
            raise PydanticCustomError("wrong_kind", "{detail}", {"detail": f"{name} {why}"})
    return data


AssetArg = Annotated[
    Asset,
    BeforeValidator(_upper),
    Field(description="BTC or ETH (any case)."),
]

AsOfArg = Annotated[
    # The grammar is published as the string's pattern and enforced by parse_as_of (tools/point_in_time.py), whose
    # messages say what is wrong; pydantic's generic pattern error would not.
    Annotated[str, WithJsonSchema({"type": "string", "pattern": AS_OF_PATTERN})] | None,
    # The rest of the grammar (years, only data known by then) is said once, in the server's instructions: this
    # description repeats in all six tools' schemas, and tools/list is read on every turn.
    Field(description="UTC; a date means its end of day, a datetime needs Z or an offset. Omit for now."),
]

# Short on purpose: tools/list is paid for on every turn and four tools take it.
ChartArg = Annotated[bool, Field(description="Add a PNG chart.")]

Detail = Literal["summary", "full"]
# Rows a summary keeps of each long series: enough to see the latest days and their direction.
SUMMARY_ROWS = 5

# Described once, in the server's instructions: a description here would repeat in all six tools' schemas.
DetailArg = Annotated[Detail, Field()]
