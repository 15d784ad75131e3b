"""Smaller JSON Schemas for tools/list: every byte of it sits in the model's context on every turn.

Pydantic's schemas repeat a `title` on every property (the property name again); it carries nothing a client
needs, so it is dropped. Nullable fields keep pydantic's `anyOf: [X, {"type": "null"}]`: a `type` list would be
shorter, but the inspector's --strict check flags it as unportable (several clients reject type arrays).
Descriptions, types, enums, bounds and required lists are kept exactly.
"""

from __future__ import annotations

from typing import Any

# A JSON Schema document: JSON, so untyped by nature.
JsonSchema = dict[str, Any]


def compact_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: JsonSchema = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            # A map of names to schemas: a property may itself be called "title", so recurse per value only.
            out[key] = {name: compact_schema(sub) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value)
    return out


# Fields every result has (schemas.common.ToolResult): the server instructions, sent once at initialize, say what
# they hold, so the compact schemas give only their types instead of repeating it in all six tools.
SHARED_RESULT_FIELDS = ("as_of", "sources", "warnings", "omitted")


def shallow_output_schema(schema: JsonSchema) -> JsonSchema:
    """Top-level fields with their types and descriptions; nested objects and arrays keep only their JSON type.

    A structured result still validates against it. The nested field documentation lives in the
    `windvane://methodology` resource and in every result itself, instead of in every turn's context.
    """
    definitions: JsonSchema = schema.get("$defs", {})

    def json_types(sub: JsonSchema) -> list[str]:
        if "$ref" in sub:
            sub = definitions.get(str(sub["$ref"]).rsplit("/", 1)[-1], {})
        options = sub.get("anyOf")
        if isinstance(options, list):
            return sorted({t for option in options for t in json_types(option)})
        found = sub.get("type", "object")
        return list(found) if isinstance(found, list) else [found]

    properties = {}
    for name, sub in schema.get("properties", {}).items():
        types = json_types(sub)
        entry: JsonSchema = {"type": types[0]} if len(types) == 1 else {"anyOf": [{"type": t} for t in types]}
        if "description" in sub and name not in SHARED_RESULT_FIELDS:
            entry["description"] = sub["description"]
        if "enum" in sub:
            entry["enum"] = sub["enum"]
        properties[name] = entry
    return {"type": "object", "properties": properties, "required": list(schema.get("required", []))}
