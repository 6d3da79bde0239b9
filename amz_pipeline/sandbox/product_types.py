"""Product-type schemas and the sandbox's own attribute validator.

The standard draft 2019-09 part runs in jsonschema-rs (compiled once per product type and requirements). Amazon's
meta-schema keywords are compiled here, once, into checks that run in Python over the attributes present (jsonschema-rs
custom keywords would call back into Python for every node: ~30x slower):

- `selectors`: the properties that identify which instance of an attribute a value belongs to (marketplace_id,
  language_tag, ...); patch `merge`/`delete` use them too.
- `minUniqueItems` / `maxUniqueItems`: bounds on how many instances may share one combination of selector values
  (item_name: one per marketplace and language; bullet_point: up to five). Identical duplicates count twice, as in
  Amazon's reference validator ("Each combination of selector values may only occur N times").
- `minUtf8ByteLength` / `maxUtf8ByteLength`: string length in UTF-8 bytes, not characters.
- `editable: false`: the attribute cannot change once the listing exists (checked against the stored listing).
- `hidden`, `enumNames`, `$lifecycle`: annotations for UIs; no effect on validation.

Violations become Amazon-style issues (code, message, severity, attributeNames, categories).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from functools import cache
from typing import Any

import jsonschema_rs

import schemas

from .messages import Issue, issue

REQUIREMENTS = ("LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY")
INVALID_VALUE = "99010"


AMAZON_KEYWORDS = ("selectors", "minUniqueItems", "maxUniqueItems", "maxUtf8ByteLength", "minUtf8ByteLength")


def _identity(item: Any) -> Any:
    try:
        hash(item)
        return item
    except TypeError:
        return json.dumps(item, sort_keys=True, separators=(",", ":"))


class CheckNode:
    """Amazon keywords at one schema location, with children by property name and for array items.

    Compiled once per validator; the instance is walked once along this tree, visiting only locations that
    carry one of Amazon's keywords somewhere below.
    """

    __slots__ = ("keywords", "selectors", "properties", "items")

    def __init__(self) -> None:
        self.keywords: list[tuple[str, Any]] = []
        self.selectors: list[str] | None = None
        self.properties: dict[str, CheckNode] = {}
        self.items: CheckNode | None = None

    def empty(self) -> bool:
        return not self.keywords and not self.properties and self.items is None

    def run(self, instance: Any, where: list[Any], out: list[tuple[list[Any], str, dict[str, Any]]]) -> None:
        for keyword, value in self.keywords:
            _check(keyword, value, self.selectors, instance, where, out)
        if self.properties and isinstance(instance, dict):
            for name, child in self.properties.items():
                if name in instance:
                    child.run(instance[name], [*where, name], out)
        if self.items is not None and isinstance(instance, list):
            for index, item in enumerate(instance):
                self.items.run(item, [*where, index], out)


def _check(keyword: str, value: Any, selectors: list[str] | None, instance: Any, where: list[Any],
           out: list[tuple[list[Any], str, dict[str, Any]]]) -> None:
    if keyword == "maxUtf8ByteLength":
        if isinstance(instance, str) and len(instance) * 4 > value and len(instance.encode("utf-8")) > value:
            out.append((where, keyword, {"limit": value}))
        return
    if keyword == "minUtf8ByteLength":
        if isinstance(instance, str) and len(instance.encode("utf-8")) < value:
            out.append((where, keyword, {"limit": value}))
        return
    if not isinstance(instance, list) or not instance:
        return
    if (keyword == "maxUniqueItems" and len(instance) <= value) or (keyword == "minUniqueItems" and value <= 1):
        return  # cannot fail: fewer items than the maximum, or every existing group has at least one
    # minUniqueItems / maxUniqueItems: instances per combination of selector values
    groups: dict[Any, int] = {}
    for item in instance:
        key = _identity(tuple(item.get(n) for n in selectors) if selectors and isinstance(item, dict) else None)
        groups[key] = groups.get(key, 0) + 1
    for key, members in groups.items():
        if (keyword == "maxUniqueItems" and members > value) or (keyword == "minUniqueItems" and members < value):
            scope = ""
            if selectors and isinstance(key, tuple):
                scope = ", ".join(f"{n} '{v}'" for n, v in zip(selectors, key, strict=True) if v is not None)
            out.append((where, keyword, {"limit": value, "scope": scope}))
            return


def _compile_checks(node: Any, defs: dict[str, Any], target: CheckNode, depth: int = 0) -> None:
    if not isinstance(node, dict) or depth > 32:
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        _compile_checks(defs.get(ref[len("#/$defs/"):]), defs, target, depth + 1)
    for keyword in AMAZON_KEYWORDS:
        if keyword in node and keyword != "selectors":
            target.keywords.append((keyword, node[keyword]))
    if node.get("selectors"):
        target.selectors = list(node["selectors"])
    for name, sub in (node.get("properties") or {}).items():
        child = target.properties.get(name) or CheckNode()
        _compile_checks(sub, defs, child, depth + 1)
        if not child.empty():
            target.properties[name] = child
    if isinstance(node.get("items"), dict):
        child = target.items or CheckNode()
        _compile_checks(node["items"], defs, child, depth + 1)
        target.items = None if child.empty() else child
    for sub in node.get("allOf") or []:
        if isinstance(sub, dict) and "if" not in sub:
            _compile_checks(sub, defs, target, depth + 1)


def _dotted(path: list[Any], extra: str | None = None) -> str:
    parts = [str(p) for p in path if not isinstance(p, int)]
    if extra:
        parts.append(extra)
    return ".".join(parts)


class AttributeValidator:
    """Validates a listing's attributes against one product type under one `requirements` value."""

    def __init__(self, product_type: str, schema: dict[str, Any], required: list[str]) -> None:
        self.product_type = product_type
        compiled = copy.deepcopy(schema)
        compiled["required"] = list(required)
        compiled.pop("$schema", None)
        self.properties: dict[str, Any] = compiled.get("properties", {})
        self.read_only = sorted(name for name, prop in self.properties.items()
                                if isinstance(prop, dict) and prop.get("editable") is False)
        # Amazon's keywords run in Python over the attributes present; the rest of the schema runs compiled.
        self._checks = CheckNode()
        _compile_checks(compiled, compiled.get("$defs", {}), self._checks)
        self._validator = jsonschema_rs.Draft201909Validator(compiled, validate_formats=True)

    def validate(self, attributes: dict[str, Any], previous: dict[str, Any] | None = None,
                 report_style: bool = False) -> list[Issue]:
        """Issues for `attributes` (empty when valid). `previous` is the stored listing's attributes, if any.

        `report_style` writes attribute names the way the feed processing report does (`'[name]'`).
        """
        issues: list[Issue] = []
        unknown = [name for name in attributes if name not in self.properties]
        if unknown:
            issues.append(issue("90000900", "attributes_invalid", unknown, "INVALID_ATTRIBUTE"))
        if previous:
            for name in self.read_only:
                if name in previous and name in attributes and attributes[name] != previous[name]:
                    issues.append(issue("99101", "not_editable", [name], "INVALID_ATTRIBUTE", name=name))
        found_amazon: list[tuple[list[Any], str, dict[str, Any]]] = []
        self._checks.run(attributes, [], found_amazon)
        for where, keyword, params in found_amazon:
            issues.append(_amazon_issue(where, keyword, params))
        if not self._validator.is_valid(attributes):
            seen: set[tuple[str, str]] = set()
            for error in self._validator.iter_errors(attributes):
                found = self._to_issue(error, report_style)
                if found is None:
                    continue
                key = (found["code"], found["message"])
                if key not in seen:
                    seen.add(key)
                    issues.append(found)
        return issues

    def _to_issue(self, error: Any, report_style: bool) -> Issue | None:
        kind = error.kind
        path = list(error.instance_path)
        top = str(path[0]) if path else None
        kinds = jsonschema_rs.ValidationErrorKind
        if isinstance(kind, kinds.Required):
            name = _dotted(path, kind.property)
            shown = f"[{name}]" if report_style else name
            return issue("90220", "required_missing", [top or kind.property], "MISSING_ATTRIBUTE",
                         names=f"'{shown}'")
        if isinstance(kind, kinds.AdditionalProperties):
            if not path:
                return None  # unknown top-level attributes are reported once, above
            return issue("90000900", "attributes_invalid", [top], "INVALID_ATTRIBUTE")
        names = [top] if top else []
        if isinstance(kind, kinds.AnyOf | kinds.OneOfNotValid):
            missing = _required_alternatives(kind)
            if missing:
                listed = [f"'[{m}]'" if report_style else f"'{m}'" for m in missing]
                return issue("90220", "required_missing", names or missing, "MISSING_ATTRIBUTE", names=listed)
        name = _dotted(path) or "attributes"
        field = str(path[-1]) if path and not isinstance(path[-1], int) else name
        if isinstance(kind, kinds.MinItems):
            return issue("99022", "too_few_values", names, "INVALID_ATTRIBUTE", field=field, name=name,
                         limit=kind.limit)
        if isinstance(kind, kinds.MaxItems):
            return issue("99023", "too_many_values", names, "INVALID_ATTRIBUTE", field=field, name=name,
                         limit=kind.limit)
        if isinstance(kind, kinds.MaxLength):
            return issue("99030", "too_long_characters", names, "INVALID_ATTRIBUTE", name=name, limit=kind.limit)
        if isinstance(kind, kinds.MinLength):
            return issue("99031", "too_short_characters", names, "INVALID_ATTRIBUTE", name=name, limit=kind.limit)
        if len(error.message) <= 160:
            return issue(INVALID_VALUE, "invalid_value", names, "INVALID_ATTRIBUTE", name=name, detail=error.message)
        return issue(INVALID_VALUE, "invalid_value_rule", names, "INVALID_ATTRIBUTE", name=name, rule=kind.name)


def _amazon_issue(where: list[Any], keyword: str, params: dict[str, Any]) -> Issue:
    names = [str(where[0])] if where else []
    name = _dotted(where)
    field = str(where[-1]) if where and not isinstance(where[-1], int) else name
    scoped = "_scoped" if params.get("scope") else ""
    if keyword == "minUniqueItems":
        return issue("99022", "too_few_values" + scoped, names, "INVALID_ATTRIBUTE", field=field, name=name, **params)
    if keyword == "maxUniqueItems":
        return issue("99023", "too_many_values" + scoped, names, "INVALID_ATTRIBUTE", field=field, name=name,
                     **params)
    if keyword == "maxUtf8ByteLength":
        return issue("99030", "too_long_bytes", names, "INVALID_ATTRIBUTE", name=name, **params)
    return issue("99031", "too_short_bytes", names, "INVALID_ATTRIBUTE", name=name, **params)


def _required_alternatives(kind: Any) -> list[str]:
    """Property names of an anyOf/oneOf whose every branch failed only on `required` (conditional requirements)."""
    missing: list[str] = []
    for branch in getattr(kind, "context", None) or []:
        for error in branch:
            if not isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
                return []
            missing.append(error.kind.property)
    return missing


class ProductTypeCatalog:
    """Reads `schemas/product_types/` (index + one schema per product type) on demand."""

    def __init__(self) -> None:
        self._index: dict[str, Any] | None = None

    def index(self) -> dict[str, Any]:
        if self._index is None:
            if not schemas.path("product_types/index.json").is_file():
                return {}
            self._index = schemas.load_json("product_types/index.json")
        return self._index

    def names(self) -> list[str]:
        return sorted(self.index())

    def info(self, product_type: str) -> dict[str, Any] | None:
        return self.index().get(product_type)

    def schema(self, product_type: str) -> dict[str, Any]:
        return schemas.load_json(f"product_types/{product_type}.json")

    @cache  # noqa: B019 - one catalog per process, schemas are immutable files
    def schema_bytes(self, product_type: str) -> bytes:
        return schemas.path(f"product_types/{product_type}.json").read_bytes()

    def checksum(self, product_type: str) -> str:
        """Base64 of the MD5 of the served schema bytes, as the PTD model describes `checksum`."""
        return base64.b64encode(hashlib.md5(self.schema_bytes(product_type)).digest()).decode("ascii")

    @cache  # noqa: B019
    def validator(self, product_type: str, requirements: str) -> AttributeValidator | None:
        info = self.info(product_type)
        if info is None:
            return None
        required = info.get("requirements", {}).get(requirements)
        schema = self.schema(product_type)
        if required is None:
            required = schema.get("required", [])
        return AttributeValidator(product_type, schema, required)


CATALOG = ProductTypeCatalog()
