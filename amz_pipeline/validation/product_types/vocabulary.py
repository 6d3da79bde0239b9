"""Amazon's product-type vocabulary on top of JSON Schema draft 2019-09.

Keywords (developer-docs "Amazon Product Type Definitions Meta-Schema (v1)" and Amazon's Java example validator):

- `maxUniqueItems` (array): each combination of `selectors` values may occur at most this many times (Amazon's
  example counts occurrences per combination; without `selectors` the whole item is the combination).
- `minUniqueItems` (array): each combination present occurs at least this many times.
- `maxUtf8ByteLength` / `minUtf8ByteLength` (string): length in UTF-8 bytes, not characters.
- `selectors`: which properties identify an instance; used by the two keywords above (and by PATCH delete).
- `editable`, `hidden`, `enumNames`: informational. `$lifecycle` `{"deprecated": true, "replacedBy", "sunsetDate"}`
  turns into a warning when a deprecated attribute is sent.

The checks are compiled once into a tree that mirrors where the keywords sit (properties, array items, `$ref`,
unconditional `allOf`), so a payload is walked only along those locations. jsonschema-rs can call Python custom
keywords too, but at ~1 µs per call and ~30 calls per payload that alone would exceed the per-payload budget; the
custom-keyword form is kept for schemas that put Amazon keywords under conditional applicators (`if`/`anyOf`/...),
where only the engine knows which branch applies (`KEYWORD_CLASSES`).
"""

from __future__ import annotations

import json
from typing import Any

from .issues import WARNING, Issue, format_path

AMAZON_KEYWORDS = ("maxUniqueItems", "minUniqueItems", "maxUtf8ByteLength", "minUtf8ByteLength")
_CONDITIONAL = ("if", "then", "else", "anyOf", "oneOf", "not", "contains", "additionalProperties",
                "patternProperties", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems")


def _key(value: Any) -> Any:
    """Hashable identity of a JSON value with JSON equality (1 == 1.0, true != 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return ("json", json.dumps(value, sort_keys=True, separators=(",", ":")))


def _combination(item: Any, selectors: list[str] | None) -> Any:
    if selectors and isinstance(item, dict):
        return tuple(_key(item.get(name)) for name in selectors)
    return _key(item)


def _describe(item: Any, selectors: list[str] | None) -> str:
    if selectors and isinstance(item, dict):
        shown = ", ".join(f"{n}={item.get(n)!r}" for n in selectors if n in item)
        return f" ({shown})" if shown else ""
    return ""


def unique_items_violation(keyword: str, limit: int, selectors: list[str] | None, instance: Any) -> str | None:
    if not isinstance(instance, list):
        return None
    counts: dict[Any, int] = {}
    first: dict[Any, Any] = {}
    for item in instance:
        combo = _combination(item, selectors)
        counts[combo] = counts.get(combo, 0) + 1
        first.setdefault(combo, item)
    for combo, count in counts.items():
        if keyword == "maxUniqueItems" and count > limit:
            return (f"each combination of selector values may occur at most {limit} time(s); "
                    f"one occurs {count} times{_describe(first[combo], selectors)}")
        if keyword == "minUniqueItems" and count < limit:
            return (f"each combination of selector values must occur at least {limit} time(s); "
                    f"one occurs {count} time(s){_describe(first[combo], selectors)}")
    return None


def byte_length_violation(keyword: str, limit: int, instance: Any) -> str | None:
    if not isinstance(instance, str):
        return None
    if keyword == "maxUtf8ByteLength":
        if len(instance) * 4 <= limit:  # a code point is at most 4 bytes
            return None
        size = len(instance.encode("utf-8"))
        return f"is {size} bytes long in UTF-8; the maximum is {limit}" if size > limit else None
    size = len(instance.encode("utf-8"))
    return f"is {size} bytes long in UTF-8; the minimum is {limit}" if size < limit else None


class CheckTree:
    """Amazon keywords at one schema location, with children for properties and array items."""

    __slots__ = ("keywords", "selectors", "deprecated", "properties", "items")

    def __init__(self) -> None:
        self.keywords: list[tuple[str, int]] = []
        self.selectors: list[str] | None = None
        self.deprecated: str | None = None
        self.properties: dict[str, CheckTree] = {}
        self.items: CheckTree | None = None

    def empty(self) -> bool:
        return not self.keywords and self.deprecated is None and not self.properties and self.items is None

    def run(self, instance: Any, path: list[str | int], out: list[Issue]) -> None:
        if self.deprecated is not None:
            out.append(Issue(format_path(path), "deprecated", self.deprecated, (str(path[0]),), WARNING))
        for keyword, limit in self.keywords:
            if keyword == "maxUniqueItems":
                if not isinstance(instance, list) or len(instance) <= limit:
                    continue  # cannot occur more often than there are items
                problem = unique_items_violation(keyword, limit, self.selectors, instance)
            elif keyword == "minUniqueItems":
                problem = unique_items_violation(keyword, limit, self.selectors, instance)
            else:
                problem = byte_length_violation(keyword, limit, instance)
            if problem is not None:
                field = format_path(path)
                out.append(Issue(field, keyword, f"'{field}' {problem}.", (str(path[0]),) if path else ()))
        if self.properties and isinstance(instance, dict):
            properties = self.properties
            for name, value in instance.items():
                child = properties.get(name)
                if child is not None:
                    path.append(name)
                    child.run(value, path, out)
                    path.pop()
        if self.items is not None and isinstance(instance, list):
            for index, item in enumerate(instance):
                path.append(index)
                self.items.run(item, path, out)
                path.pop()


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return defs.get(ref[len("#/$defs/"):])
    return None


def compile_checks(schema: dict[str, Any]) -> tuple[CheckTree, bool]:
    """The check tree of `schema`, and whether it covers every Amazon keyword in the schema (False when one sits
    under a conditional applicator, where only a full engine can tell whether it applies)."""
    defs = schema.get("$defs", {})
    complete = True

    def visit(node: Any, target: CheckTree, depth: int) -> None:
        nonlocal complete
        if not isinstance(node, dict) or depth > 64:
            return
        resolved = _resolve(node, defs)
        if resolved is not None:
            visit(resolved, target, depth + 1)
        for keyword in AMAZON_KEYWORDS:
            limit = node.get(keyword)
            if not isinstance(limit, int) or isinstance(limit, bool):
                continue
            if keyword == "minUniqueItems" and limit <= 1:
                continue  # every combination present occurs at least once: this can never fail
            target.keywords.append((keyword, limit))
        if isinstance(node.get("selectors"), list):
            target.selectors = [str(s) for s in node["selectors"]]
        lifecycle = node.get("$lifecycle")
        if depth == 2 and isinstance(lifecycle, dict) and lifecycle.get("deprecated") is True:
            replaced = lifecycle.get("replacedBy")
            sunset = lifecycle.get("sunsetDate")
            target.deprecated = ("this attribute is deprecated" + (f"; use '{replaced}'" if replaced else "")
                                 + (f"; it stops being accepted on {sunset}" if sunset else "") + ".")
        for name, sub in (node.get("properties") or {}).items():
            child = target.properties.get(name) or CheckTree()
            visit(sub, child, depth + 1)
            if not child.empty():
                target.properties[name] = child
        if isinstance(node.get("items"), dict):
            child = target.items or CheckTree()
            visit(node["items"], child, depth + 1)
            target.items = None if child.empty() else child
        for sub in node.get("allOf") or []:
            if isinstance(sub, dict) and not any(k in sub for k in ("if", "then", "else")):
                visit(sub, target, depth)
            elif _mentions_amazon_keyword(sub):
                complete = False
        for keyword in _CONDITIONAL:
            if keyword in node and _mentions_amazon_keyword(node[keyword]):
                complete = False

    root = CheckTree()
    # Attribute schemas are visited at depth 2: `$lifecycle` counts only there (a deprecated attribute).
    for name, sub in (schema.get("properties") or {}).items():
        child = CheckTree()
        visit(sub, child, 2)
        if not child.empty():
            root.properties[name] = child
    for sub in schema.get("allOf") or []:
        if _mentions_amazon_keyword(sub):
            complete = False
    return root, complete


def _mentions_amazon_keyword(node: Any) -> bool:
    if isinstance(node, dict):
        return any(k in node for k in AMAZON_KEYWORDS) or any(
            _mentions_amazon_keyword(v) for k, v in node.items() if k not in ("enum", "const", "default", "examples"))
    if isinstance(node, list):
        return any(_mentions_amazon_keyword(v) for v in node)
    return False


def keyword_classes() -> dict[str, type]:
    """jsonschema-rs custom keywords for the same rules (used when the check tree cannot cover a schema)."""

    class _Unique:
        keyword = ""

        def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
            self.limit = value
            self.selectors = parent_schema.get("selectors")

        def validate(self, instance: Any) -> None:
            problem = unique_items_violation(self.keyword, self.limit, self.selectors, instance)
            if problem is not None:
                raise ValueError(problem)

    class _Bytes:
        keyword = ""

        def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
            self.limit = value

        def validate(self, instance: Any) -> None:
            problem = byte_length_violation(self.keyword, self.limit, instance)
            if problem is not None:
                raise ValueError(problem)

    made: dict[str, type] = {}
    for keyword in AMAZON_KEYWORDS:
        base = _Unique if keyword.endswith("UniqueItems") else _Bytes
        made[keyword] = type(keyword, (base,), {"keyword": keyword})
    return made
