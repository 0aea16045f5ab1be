"""A handler's JSON schema, used twice: to prefill the body editor and to check a body before it is sent.

Only the keywords the SDKs emit are understood (``type``, ``properties``, ``required``, ``items``,
``enum``, ``const``, ``anyOf``/``oneOf``, ``$ref`` into ``$defs``, ``default``, ``examples``); anything
else is accepted, so a schema we do not follow never blocks a request the server would take.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
_EXAMPLES: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "null": None}


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def example_for(schema: Mapping[str, Any] | None, root: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A value that fits ``schema``: its default or first example, else an empty value of its type."""
    if not schema or depth > 8:
        return None
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "default" in schema:
        return schema["default"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        options = [o for o in schema.get(combinator, []) if _resolve(o, root).get("type") != "null"]
        if options:
            return example_for(options[0], root, depth + 1)
    ty = schema.get("type")
    if isinstance(ty, list):
        ty = next((t for t in ty if t != "null"), "null")
    if ty == "object" or (ty is None and "properties" in schema):
        props = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {name: example_for(props[name], root, depth + 1) for name in required if name in props}
    if ty in _EXAMPLES:
        return _EXAMPLES[ty]
    return None


def example_text(schema: Mapping[str, Any] | None) -> str:
    """The body editor's prefill: the example as indented JSON (empty for a handler without input)."""
    if not schema:
        return ""
    return json.dumps(example_for(schema), indent=2)


def _type_ok(value: Any, ty: str) -> bool:
    if ty == "integer" and isinstance(value, float):
        return value.is_integer()
    if isinstance(value, bool) and ty in ("integer", "number"):
        return False
    return isinstance(value, _PYTHON_TYPES.get(ty, (object,)))


def validate(
    value: Any, schema: Mapping[str, Any] | None, root: Mapping[str, Any] | None = None, path: str = "body"
) -> list[str]:
    """What is wrong with ``value`` against ``schema``, one readable line per problem (empty: it fits)."""
    if not schema:
        return []
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            if any(not validate(value, o, root, path) for o in options):
                break
            return [f"{path} matches none of the allowed forms"]
    if "const" in schema and value != schema["const"]:
        return [f"{path} must be {json.dumps(schema['const'])}"]
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        return [f"{path} must be one of {allowed}"]
    ty = schema.get("type")
    types = ty if isinstance(ty, list) else [ty] if isinstance(ty, str) else []
    if types and not any(_type_ok(value, t) for t in types):
        return [f"{path} must be {' or '.join(types)}, not {_json_type(value)}"]
    problems: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{path} is missing required field {name!r}")
        for name, item in value.items():
            if name in props:
                problems.extend(validate(item, props[name], root, f"{path}.{name}"))
            elif schema.get("additionalProperties") is False:
                problems.append(f"{path} has unexpected field {name!r}")
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problems.extend(validate(item, schema["items"], root, f"{path}[{i}]"))
    return problems


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _type_ok(value, name):
            return name
    return type(value).__name__
