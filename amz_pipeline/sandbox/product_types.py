"""Product-type schemas and the sandbox's own attribute validator.

The standard draft 2019-09 part runs in jsonschema-rs (compiled once per product type and requirements); Amazon's
meta-schema keywords are implemented here as jsonschema-rs custom keywords:

- `selectors`: the items of an attribute array are identified by these properties; two items with the same
  selector values are duplicates.
- `minUniqueItems` / `maxUniqueItems`: bounds on the number of items that are distinct by their selectors.
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

REQUIREMENTS = ("LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY")
INVALID_VALUE = "99010"


def _identity(item: Any, selectors: list[str] | None) -> str:
    if selectors and isinstance(item, dict):
        item = [item.get(name) for name in selectors]
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


class _Keyword:
    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[Any]) -> None:
        self.value = value
        self.selectors = parent_schema.get("selectors")


class Selectors(_Keyword):
    def validate(self, instance: Any) -> None:
        if not isinstance(instance, list) or len(instance) < 2:
            return
        seen: set[str] = set()
        for item in instance:
            key = _identity(item, self.value)
            if key in seen:
                raise ValueError(f"Two values have the same {', '.join(self.value)}.")
            seen.add(key)


class MinUniqueItems(_Keyword):
    def validate(self, instance: Any) -> None:
        if isinstance(instance, list) and len({_identity(i, self.selectors) for i in instance}) < self.value:
            raise ValueError(f"does not have enough values. The required minimum is '{self.value}' value(s).")


class MaxUniqueItems(_Keyword):
    def validate(self, instance: Any) -> None:
        if isinstance(instance, list) and len({_identity(i, self.selectors) for i in instance}) > self.value:
            raise ValueError(f"has too many values. The allowed maximum is '{self.value}' value(s).")


class MaxUtf8ByteLength(_Keyword):
    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and len(instance.encode("utf-8")) > self.value:
            raise ValueError(f"is longer than the allowed maximum of '{self.value}' bytes.")


class MinUtf8ByteLength(_Keyword):
    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and len(instance.encode("utf-8")) < self.value:
            raise ValueError(f"is shorter than the allowed minimum of '{self.value}' bytes.")


AMAZON_KEYWORDS = {"selectors": Selectors, "minUniqueItems": MinUniqueItems, "maxUniqueItems": MaxUniqueItems,
                   "maxUtf8ByteLength": MaxUtf8ByteLength, "minUtf8ByteLength": MinUtf8ByteLength}


def issue(code: str, message: str, attribute_names: list[str], category: str, severity: str = "ERROR") -> dict[str, Any]:
    return {"code": code, "message": message, "severity": severity, "attributeNames": attribute_names,
            "categories": [category]}


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
        self._validator = jsonschema_rs.Draft201909Validator(compiled, keywords=AMAZON_KEYWORDS)

    def validate(self, attributes: dict[str, Any], previous: dict[str, Any] | None = None,
                 report_style: bool = False) -> list[dict[str, Any]]:
        """Issues for `attributes` (empty when valid). `previous` is the stored listing's attributes, if any.

        `report_style` writes attribute names the way the feed processing report does (`'[name]'`).
        """
        issues: list[dict[str, Any]] = []
        unknown = [name for name in attributes if name not in self.properties]
        if unknown:
            issues.append(issue("90000900", "The attributes are invalid.", unknown, "INVALID_ATTRIBUTE"))
        if previous:
            for name in self.read_only:
                if name in previous and name in attributes and attributes[name] != previous[name]:
                    issues.append(issue("99101", f"'{name}' cannot be changed once the listing exists.", [name],
                                        "INVALID_ATTRIBUTE"))
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

    def _to_issue(self, error: Any, report_style: bool) -> dict[str, Any] | None:
        kind = error.kind
        path = list(error.instance_path)
        top = str(path[0]) if path else None
        kinds = jsonschema_rs.ValidationErrorKind
        if isinstance(kind, kinds.Required):
            name = _dotted(path, kind.property)
            shown = f"[{name}]" if report_style else name
            return issue("90220", f"'{shown}' is required but not supplied.", [top or kind.property],
                         "MISSING_ATTRIBUTE")
        if isinstance(kind, kinds.AdditionalProperties):
            if not path:
                return None  # unknown top-level attributes are reported once, above
            return issue("90000900", "The attributes are invalid.", [top], "INVALID_ATTRIBUTE")
        names = [top] if top else []
        if isinstance(kind, kinds.AnyOf | kinds.OneOfNotValid):
            missing = _required_alternatives(kind)
            if missing:
                listed = " or ".join(f"'[{m}]'" if report_style else f"'{m}'" for m in missing)
                return issue("90220", f"{listed} is required but not supplied.", names or missing,
                             "MISSING_ATTRIBUTE")
        name = _dotted(path) or "attributes"
        field = str(path[-1]) if path and not isinstance(path[-1], int) else name
        if isinstance(kind, kinds.MinItems) or (isinstance(kind, kinds.Custom) and kind.keyword == "minUniqueItems"):
            limit = kind.limit if isinstance(kind, kinds.MinItems) else None
            tail = (f"does not have enough values. The required minimum is '{limit}' value(s)."
                    if limit is not None else kind.message)
            return issue("99022", f"The field '\"{field}\"' for the attribute '{name}' {tail}", names,
                         "INVALID_ATTRIBUTE")
        if isinstance(kind, kinds.MaxItems) or (isinstance(kind, kinds.Custom) and kind.keyword == "maxUniqueItems"):
            limit = kind.limit if isinstance(kind, kinds.MaxItems) else None
            tail = (f"has too many values. The allowed maximum is '{limit}' value(s)."
                    if limit is not None else kind.message)
            return issue("99023", f"The field '\"{field}\"' for the attribute '{name}' {tail}", names,
                         "INVALID_ATTRIBUTE")
        if isinstance(kind, kinds.Custom) and kind.keyword == "selectors":
            return issue("99050", f"The attribute '{name}' has duplicate values. {kind.message}", names,
                         "INVALID_ATTRIBUTE")
        if isinstance(kind, kinds.Custom | kinds.MaxLength | kinds.MinLength):
            detail = kind.message if isinstance(kind, kinds.Custom) else error.message
            return issue("99030", f"The value provided for '{name}' {detail}".rstrip(".") + ".", names,
                         "INVALID_ATTRIBUTE")
        detail = error.message if len(error.message) <= 200 else f"it does not satisfy the '{kind.name}' rule"
        return issue(INVALID_VALUE, f"The value provided for '{name}' is invalid: {detail}", names,
                     "INVALID_ATTRIBUTE")


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

    def index(self) -> dict[str, Any]:
        path = schemas.path("product_types/index.json")
        if not path.is_file():
            return {}
        return schemas.load_json("product_types/index.json")

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
