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
- `editable: false`: the value cannot change once the listing exists, at any depth (checked against the stored
  listing; array items are paired with the stored ones by their selectors, see `LockNode`).
- `hidden`, `enumNames`, `$lifecycle`: annotations for UIs; no effect on validation.

Violations become Amazon-style issues (code, message, severity, attributeNames, categories).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterable
from functools import cache
from typing import Any

import jsonschema_rs
import orjson

import schemas

from .messages import Issue, issue

REQUIREMENTS = ("LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY")
RESULT_CACHE_SIZE = 1024  # validation results of new listings kept per validator, by canonical attribute bytes
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


class LockNode:
    """Where `editable: false` applies at and below one schema location.

    A locked value may not differ from the stored listing's. Below a location, children are kept by property name
    and for array items; array items are paired with the stored ones by the array's `selectors` (an instance keeps
    its identity: marketplace_id, type, ...), by position when it has none. Selector properties are never "changed"
    (they are what pairs the items), so they carry no lock.
    """

    __slots__ = ("locked", "properties", "items", "selectors")

    def __init__(self, locked: bool) -> None:
        self.locked = locked
        self.properties: dict[str, LockNode] = {}
        self.items: LockNode | None = None
        self.selectors: tuple[str, ...] = ()

    def changes(self, before: Any, after: Any, where: list[str], out: list[list[str]]) -> None:
        if self.locked:
            if before != after:
                out.append(where)
            return
        if self.properties and isinstance(before, dict) and isinstance(after, dict):
            for name, child in self.properties.items():
                if name in before and name in after:
                    child.changes(before[name], after[name], [*where, name], out)
        if self.items is not None and isinstance(before, list) and isinstance(after, list):
            if not self.selectors:
                for old, new in zip(before, after, strict=False):
                    self.items.changes(old, new, where, out)
                return
            stored = {self._key(item): item for item in before if isinstance(item, dict)}
            for item in after:
                if isinstance(item, dict) and self._key(item) in stored:
                    self.items.changes(stored[self._key(item)], item, where, out)

    def _key(self, item: dict[str, Any]) -> Any:
        return _identity(tuple(item.get(name) for name in self.selectors))


def _compile_locks(node: Any, defs: dict[str, Any], skip: tuple[str, ...] = (), depth: int = 0) -> LockNode | None:
    if not isinstance(node, dict) or depth > 32:
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = {**defs.get(ref[len("#/$defs/"):], {}), **{k: v for k, v in node.items() if k != "$ref"}}
    lock = LockNode(node.get("editable") is False)
    if lock.locked:
        return lock
    for name, sub in (node.get("properties") or {}).items():
        child = None if name in skip else _compile_locks(sub, defs, (), depth + 1)
        if child is not None:
            lock.properties[name] = child
    items = node.get("items")
    if isinstance(items, dict):
        lock.selectors = tuple(node.get("selectors") or items.get("selectors") or ())
        lock.items = _compile_locks(items, defs, lock.selectors, depth + 1)
    return lock if lock.properties or lock.items is not None else None


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
        self._defs: dict[str, Any] = compiled.get("$defs", {})
        self._locks = _compile_locks({"properties": self.properties}, self._defs) or LockNode(False)
        # Amazon's keywords run in Python over the attributes present; the rest of the schema runs compiled.
        self._checks = CheckNode()
        _compile_checks(compiled, self._defs, self._checks)
        self._validator = jsonschema_rs.Draft201909Validator(compiled, validate_formats=True)
        # For incremental checks: the schema without its property subschemas (required, conditional requirements,
        # unknown attributes), and one validator per attribute, compiled on first use.
        self._root = jsonschema_rs.Draft201909Validator(
            {**compiled, "properties": dict.fromkeys(self.properties, True)}, validate_formats=True)
        self._per_attribute: dict[str, Any] = {}
        self._results: dict[tuple[bool, bytes], list[Issue]] = {}

    def _attribute_valid(self, name: str, value: Any) -> bool:
        validator = self._per_attribute.get(name)
        if validator is None:
            validator = self._per_attribute[name] = jsonschema_rs.Draft201909Validator(
                {"$defs": self._defs, **self.properties[name]}, validate_formats=True)
        return validator.is_valid(value)

    def validate(self, attributes: dict[str, Any], previous: dict[str, Any] | None = None,
                 report_style: bool = False, changed: Iterable[str] | None = None) -> list[Issue]:
        """Issues for `attributes` (empty when valid). `previous` is the stored listing's attributes, if any.

        `report_style` writes attribute names the way the feed processing report does (`'[name]'`).
        `changed`: the names of the attributes that may differ from `previous`, when `previous` passed this very
        validator; the others are then known valid on their own, and only the changed ones and the rules across
        attributes (required, conditional requirements) are checked. The issues are the same either way: any
        failure is reported from a full validation.
        """
        if changed is not None and previous is not None and not self._checks.keywords:
            names = [name for name in dict.fromkeys(changed) if name in attributes]
            if self._valid_changes(attributes, previous, names):
                return []
        if previous:
            return self._validate(attributes, previous, report_style)
        # A new listing's result depends on its attributes alone: remember it by their canonical bytes, so a
        # catalog that sends the same attribute set for many SKUs (or re-creates deleted ones) is validated once.
        try:
            key = (report_style, orjson.dumps(attributes, option=orjson.OPT_SORT_KEYS))
        except TypeError:  # beyond what orjson serializes (integers over 64 bits): no caching
            return self._validate(attributes, None, report_style)
        found = self._results.get(key)
        if found is None:
            found = self._results[key] = self._validate(attributes, None, report_style)
            if len(self._results) > RESULT_CACHE_SIZE:
                del self._results[next(iter(self._results))]
        return list(found)

    def _validate(self, attributes: dict[str, Any], previous: dict[str, Any] | None,
                  report_style: bool) -> list[Issue]:
        issues: list[Issue] = []
        unknown = [name for name in attributes if name not in self.properties]
        if unknown:
            issues.append(issue("90000900", "attributes_invalid", unknown, "INVALID_ATTRIBUTE"))
        if previous:
            moved: list[list[str]] = []
            self._locks.changes(previous, attributes, [], moved)
            for where in dict.fromkeys(tuple(w) for w in moved):
                issues.append(issue("99101", "not_editable", [where[0]], "INVALID_ATTRIBUTE", name=".".join(where)))
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

    def _valid_changes(self, attributes: dict[str, Any], previous: dict[str, Any], names: list[str]) -> bool:
        """True when the changed attributes and the rules across attributes all pass (no issue to report)."""
        for name in names:
            if name not in self.properties:
                return False
            lock = self._locks.properties.get(name)
            if lock is not None and name in previous:
                moved: list[list[str]] = []
                lock.changes(previous[name], attributes[name], [name], moved)
                if moved:
                    return False
            check = self._checks.properties.get(name)
            if check is not None:
                found: list[tuple[list[Any], str, dict[str, Any]]] = []
                check.run(attributes[name], [name], found)
                if found:
                    return False
            if not self._attribute_valid(name, attributes[name]):
                return False
        return self._root.is_valid(attributes)

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
