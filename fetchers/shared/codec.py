"""Parsed upstream values <-> JSON, for the fleet's shared cache.

Parsers return windvane's own dataclasses and pydantic models (schemas/, fetchers/), in lists, tuples and dicts,
with datetimes and dates inside. They are written as tagged JSON and rebuilt only through a registry of types:
a class is named `module:QualName`, and only a dataclass, pydantic model or Enum defined in a `fetchers.` or
`schemas.` module is ever rebuilt. No pickle (a shared cache is a shared trust boundary: a pickle from it would
run whatever code it names), no eval. Values were validated when parsed, so models are rebuilt with
`model_construct`, keeping which fields were set. Anything else raises CodecError: that value is simply not shared.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import re
import sys
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

TAG = "$t"
ALLOWED_PACKAGES = ("fetchers", "schemas")
_MODULE_RE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")


class CodecError(ValueError):
    """A value (or a stored document) outside what the codec handles."""


def dumps(value: Any) -> bytes:
    return json.dumps(encode(value), separators=(",", ":")).encode()


def loads(data: bytes | str) -> Any:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise CodecError(f"not JSON: {exc.msg}") from None
    return decode(document)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, BaseModel):
        fields = {name: encode(getattr(value, name)) for name in type(value).model_fields}
        return {TAG: "model", "c": _name(type(value)), "f": fields, "s": sorted(value.model_fields_set)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {TAG: "dc", "c": _name(type(value)), "f": fields}
    if isinstance(value, enum.Enum):
        return {TAG: "enum", "c": _name(type(value)), "v": encode(value.value)}
    if isinstance(value, datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "v": value.total_seconds()}
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {TAG: type(value).__name__, "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {TAG: "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    raise CodecError(f"cannot share a {type(value).__module__}.{type(value).__qualname__}")


def _registered(name: Any) -> type:
    """The class `module:QualName` names, if it is one of windvane's own value types; else CodecError."""
    if not isinstance(name, str) or name.count(":") != 1:
        raise CodecError(f"bad type name {name!r}")
    module_name, qualname = name.split(":")
    if not _MODULE_RE.match(module_name) or module_name.split(".")[0] not in ALLOWED_PACKAGES:
        raise CodecError(f"type {name!r} is outside {ALLOWED_PACKAGES}")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    ok = isinstance(target, type) and target.__module__ == module_name
    if not ok or not (dataclasses.is_dataclass(target) or issubclass(target, BaseModel | enum.Enum)):
        raise CodecError(f"{name!r} is not a registered value type")
    cls: type = target
    return cls


def decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tag = obj.get(TAG)
    if tag is None:
        return {k: decode(v) for k, v in obj.items()}
    try:
        return _decode_tagged(tag, obj)
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"bad {tag!r} document: {exc}") from None


def _decode_tagged(tag: str, obj: dict[str, Any]) -> Any:
    if tag == "model":
        cls = _registered(obj["c"])
        fields = {k: decode(v) for k, v in obj["f"].items()}
        return cls.model_construct(_fields_set=set(obj["s"]), **fields)  # type: ignore[attr-defined]
    if tag == "dc":
        return _registered(obj["c"])(**{k: decode(v) for k, v in obj["f"].items()})
    if tag == "enum":
        return _registered(obj["c"])(decode(obj["v"]))
    if tag == "datetime":
        return datetime.fromisoformat(obj["v"])
    if tag == "date":
        return date.fromisoformat(obj["v"])
    if tag == "timedelta":
        return timedelta(seconds=obj["v"])
    if tag == "tuple":
        return tuple(decode(v) for v in obj["v"])
    if tag == "frozenset":
        return frozenset(decode(v) for v in obj["v"])
    if tag == "set":
        return {decode(v) for v in obj["v"]}
    if tag == "dict":
        return {decode(k): decode(v) for k, v in obj["v"]}
    raise CodecError(f"unknown tag {tag!r}")
