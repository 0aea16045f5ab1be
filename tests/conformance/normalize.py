"""Turn answers into comparable shapes: ids and timestamps become stable tokens.

Ids (``inv_…``, ``sign_1…``/``prom_1…``, ``dp_…``) become ``<inv_1>``, ``<awk_1>``, ``<dp_1>`` in order of
first appearance within one scenario run, so "the same id again" compares equal across servers while
the ids themselves differ. Timestamps become ``<ts>``; a run's unique key becomes ``<key>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ID_PATTERNS = [
    ("inv", re.compile(r"inv_[0-9A-Za-z]{20,}")),
    ("dp", re.compile(r"dp_[0-9A-Za-z]{10,}")),
    ("awk", re.compile(r"(?:sign|prom)_[0-9A-Za-z_-]{10,}")),
]
#: ISO-8601 instants as both servers spell them (``executionTime``, ``idempotency-expires``, ``created_at``).
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


class Normalizer:
    """Replaces ids by numbered tokens; one instance per scenario run on one server."""

    def __init__(self, key: str = "") -> None:
        self.key = key
        self._tokens: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def token(self, raw_id: str, kind: str) -> str:
        if raw_id not in self._tokens:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._tokens[raw_id] = f"<{kind}_{self._counts[kind]}>"
        return self._tokens[raw_id]

    def text(self, text: str) -> str:
        """Normalise ids, timestamps and the run key inside a string."""
        for kind, pattern in _ID_PATTERNS:
            text = pattern.sub(lambda m, k=kind: self.token(m.group(0), k), text)
        text = _TIMESTAMP.sub("<ts>", text)
        if self.key:
            text = text.replace(self.key, "<key>")
        return text

    def value(self, value: Any, *, sort_lists: bool = False) -> Any:
        """Normalise every string in a JSON value (and optionally sort its lists)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.value(v, sort_lists=sort_lists) for k, v in value.items()}
        if isinstance(value, list):
            items = [self.value(v, sort_lists=sort_lists) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if sort_lists else items
        return value

    def body(self, raw: bytes, *, sort_lists: bool = False) -> Any:
        """A response body: parsed and normalised JSON when it is JSON, else normalised text."""
        if not raw:
            return ""
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            return self.text(text)
        return {"json": self.value(parsed, sort_lists=sort_lists)}


_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def openapi_structure(doc: dict[str, Any]) -> dict[str, Any]:
    """What an OpenAPI document promises, without prose: paths, methods, operationIds, parameters, codes."""
    paths: dict[str, Any] = {}
    for path, item in sorted((doc.get("paths") or {}).items()):
        methods: dict[str, Any] = {}
        shared_params = item.get("parameters") or []
        for method, op in sorted(item.items()):
            if method not in _HTTP_METHODS:
                continue
            params = [*shared_params, *(op.get("parameters") or [])]
            methods[method] = {
                "operationId": op.get("operationId"),
                "parameters": sorted(_param_name(doc, p) for p in params),
                "responses": sorted(str(code) for code in (op.get("responses") or {})),
                "requestBody": sorted(((op.get("requestBody") or {}).get("content") or {}).keys()),
            }
        paths[path] = methods
    return {
        "openapi": doc.get("openapi"),
        "paths": paths,
        "components": {kind: sorted(entries) for kind, entries in sorted((doc.get("components") or {}).items())},
    }


def _param_name(doc: dict[str, Any], param: dict[str, Any]) -> str:
    ref = param.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        resolved = (doc.get("components") or {}).get("parameters", {}).get(name, {})
        return f"{resolved.get('in', '?')}:{resolved.get('name', name)}"
    return f"{param.get('in', '?')}:{param.get('name')}"
