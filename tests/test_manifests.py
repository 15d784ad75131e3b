"""server.json (MCP Registry) and manifest.json (MCP bundle) against the facts their publishers state, and against
windvane itself: versions, the PyPI package, the tools, the environment variables windvane really reads.

The registry facts come from its published server.json schema (2025-12-11) and its official-registry requirements:
name `<reverse-DNS namespace>/<name>` (one slash, 3-200 characters, `io.github.<owner>/...` for a GitHub namespace),
description 1-100 characters, exact versions (no ranges, never `latest`), a PyPI package proved by an
`mcp-name: <name>` line in the package's README, remote URLs starting with http(s)://. The bundle itself is
validated by `mcpb validate` (pinned in .ci/node) in .ci/run.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from server.settings import KEYED_SOURCES, load_settings
from tests.e2e.harness import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
SCHEMA_2025_12_11 = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
KEY_VARIABLES = {f"WINDVANE_{source.upper()}_API_KEY" for source in KEYED_SOURCES}
RANGE = re.compile(r"^[\^~<>=*]|\.x$|\.\*$|\s|\|\|")
TEMPLATE_VAR = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")

# The parts of the registry's published schema that server.json uses, written from it.
INPUT = {"type": "object", "properties": {"description": {"type": "string"}, "isRequired": {"type": "boolean"},
         "isSecret": {"type": "boolean"}, "value": {"type": "string"}, "default": {"type": "string"},
         "format": {"enum": ["string", "number", "boolean", "filepath"]}}}  # fmt: skip
KEY_VALUE = {"allOf": [INPUT, {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
             "variables": {"type": "object", "additionalProperties": INPUT}}}]}  # fmt: skip
REGISTRY_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "version"],
    "properties": {
        "$schema": {"type": "string"},
        "name": {"type": "string", "pattern": r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", "minLength": 3, "maxLength": 200},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": {"type": "string", "maxLength": 255},
        "websiteUrl": {"type": "string", "pattern": "^https://"},
        "repository": {"type": "object", "required": ["url", "source"]},
        "packages": {"type": "array", "items": {
            "type": "object",
            "required": ["registryType", "identifier", "transport"],
            "properties": {
                "version": {"type": "string", "minLength": 1, "maxLength": 255, "not": {"const": "latest"}},
                "transport": {"type": "object", "required": ["type"],
                              "properties": {"type": {"enum": ["stdio", "streamable-http", "sse"]}}},
                "environmentVariables": {"type": "array", "items": KEY_VALUE},
                "packageArguments": {"type": "array", "items": {"type": "object", "required": ["type"],
                                     "anyOf": [{"required": ["value"]}, {"required": ["valueHint"]}]}},
            },
        }},
        "remotes": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "url"],
            "properties": {
                "type": {"enum": ["streamable-http", "sse"]},
                "url": {"type": "string", "pattern": r"^https?://[^\s]+$"},
                "headers": {"type": "array", "items": KEY_VALUE},
                "variables": {"type": "object", "additionalProperties": INPUT},
            },
        }},
    },
}  # fmt: skip


def load(name: str) -> Any:
    return json.loads((REPO / name).read_text())


@pytest.fixture(scope="module")
def server_json() -> Any:
    return load("server.json")


@pytest.fixture(scope="module")
def bundle() -> Any:
    return load("manifest.json")


def test_server_json_matches_the_published_registry_schema(server_json: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(server_json, REGISTRY_SCHEMA)
    assert server_json["$schema"] == SCHEMA_2025_12_11


def test_the_name_is_a_github_namespace_matching_the_repository(server_json: Any) -> None:
    name = server_json["name"]
    assert name.count("/") == 1
    namespace, server = name.split("/")
    assert namespace.startswith("io.github.")
    owner, repo = server_json["repository"]["url"].removeprefix("https://github.com/").split("/")
    assert (namespace, server) == (f"io.github.{owner}", repo)
    assert server_json["repository"]["source"] == "github"


def test_versions_are_exact_and_match_pyproject(server_json: Any, bundle: Any) -> None:
    versions = [server_json["version"], bundle["version"], *(p["version"] for p in server_json["packages"])]
    assert versions == [PYPROJECT["version"]] * len(versions)
    assert not any(RANGE.search(v) for v in versions)


def test_the_pypi_package_is_this_project_over_stdio(server_json: Any) -> None:
    [package] = server_json["packages"]
    assert package["registryType"] == "pypi"
    assert package["registryBaseUrl"] == "https://pypi.org"  # the only PyPI the official registry accepts
    assert package["identifier"] == PYPROJECT["name"]
    assert package["transport"] == {"type": "stdio"}
    assert package["packageArguments"] == [{"type": "positional", "value": "serve"}]
    assert "windvane" in PYPROJECT["scripts"]


def test_environment_variables_are_the_ones_windvane_reads_and_keys_are_secret(server_json: Any) -> None:
    variables = {v["name"]: v for v in server_json["packages"][0]["environmentVariables"]}
    assert set(variables) >= KEY_VARIABLES
    assert set(variables) - KEY_VARIABLES == {"WINDVANE_DB_PATH"}
    for name, variable in variables.items():
        assert variable["description"], name
        assert variable["isRequired"] is False, name  # keyless is the default
        assert variable["isSecret"] is (name in KEY_VARIABLES), name
    assert load_settings({"WINDVANE_DB_PATH": "/data/w.sqlite3"}).db_path == Path("/data/w.sqlite3")
    assert load_settings({name: "k" for name in KEY_VARIABLES}).api_keys.keys() == set(KEYED_SOURCES)


def test_the_remote_is_a_template_for_ones_own_deployment(server_json: Any) -> None:
    [remote] = server_json["remotes"]
    assert remote["type"] == "streamable-http"
    assert remote["url"].endswith("/mcp")
    assert set(TEMPLATE_VAR.findall(remote["url"])) == set(remote["variables"])
    [auth] = remote["headers"]
    assert auth["name"] == "Authorization"
    assert auth["isSecret"] is True
    assert set(TEMPLATE_VAR.findall(auth["value"])) == set(auth["variables"])


def test_the_readme_carries_the_registry_ownership_marker(server_json: Any) -> None:
    assert PYPROJECT["readme"] == "README.md"
    assert f"mcp-name: {server_json['name']}" in (REPO / "README.md").read_text()


def test_the_bundle_lists_every_tool_and_runs_windvane_serve(bundle: Any) -> None:
    from tools.registry import tool_specs

    assert [t["name"] for t in bundle["tools"]] == [spec.name for spec in tool_specs()]
    server = bundle["server"]
    assert server["type"] == "uv"
    assert (REPO / server["entry_point"]).is_file()
    assert server["mcp_config"]["args"][-2:] == ["windvane", "serve"]
    assert (REPO / bundle["icon"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_bundle_asks_for_the_optional_keys_as_secrets(bundle: Any) -> None:
    config = bundle["user_config"]
    env = bundle["server"]["mcp_config"]["env"]
    assert set(env) == KEY_VARIABLES
    for variable, value in env.items():
        match = re.fullmatch(r"\$\{user_config\.([a-z_]+)\}", value)
        assert match, variable
        option = match.group(1)
        assert config[option] == {**config[option], "type": "string", "sensitive": True, "required": False}
    assert len(config) == len(env)


def test_both_manifests_describe_windvane_the_same_way(server_json: Any, bundle: Any) -> None:
    assert server_json["description"] == bundle["description"]
    assert server_json["repository"]["url"] + ".git" == bundle["repository"]["url"]
