"""Smaller JSON Schemas for tools/list: every byte of it sits in the model's context on every turn.

Pydantic's schemas repeat a `title` on every property (the property name again) and spell each nullable field as
`anyOf: [X, {"type": "null"}]`. Both carry no information a client needs, so they are folded away; descriptions,
types, enums, bounds and required lists are kept exactly.
"""

from __future__ import annotations

from typing import Any

_NULL = {"type": "null"}


def compact_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            # A map of names to schemas: a property may itself be called "title", so recurse per value only.
            out[key] = {name: compact_schema(sub) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value)
    return _fold_nullable(out)


def _fold_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or _NULL not in options:
        return schema
    other = options[0] if options[1] == _NULL else options[1]
    simple_type = other.get("type")
    if not isinstance(simple_type, str) or set(other) - {"type", "format", "description"}:
        return schema  # a nullable object/array/enum keeps its anyOf: folding it would change its meaning
    folded = {k: v for k, v in schema.items() if k != "anyOf"}
    folded.update({k: v for k, v in other.items() if k != "type"})
    folded["type"] = [simple_type, "null"]
    return folded


def shallow_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields with their types and descriptions; nested objects and arrays keep only their JSON type.

    A structured result still validates against it. The nested field documentation lives in the
    `windvane://methodology` resource and in every result itself, instead of in every turn's context.
    """
    definitions: dict[str, Any] = schema.get("$defs", {})

    def json_type(sub: dict[str, Any]) -> Any:
        if "$ref" in sub:
            sub = definitions.get(str(sub["$ref"]).rsplit("/", 1)[-1], {})
        options = sub.get("anyOf")
        if isinstance(options, list):
            types: set[str] = set()
            for option in options:
                found = json_type(option)
                types.update(found if isinstance(found, list) else [found])
            return sorted(types)
        return sub.get("type", "object")

    properties = {}
    for name, sub in schema.get("properties", {}).items():
        entry: dict[str, Any] = {"type": json_type(sub)}
        if "description" in sub:
            entry["description"] = sub["description"]
        if "enum" in sub:
            entry["enum"] = sub["enum"]
        properties[name] = entry
    return {"type": "object", "properties": properties, "required": list(schema.get("required", []))}
