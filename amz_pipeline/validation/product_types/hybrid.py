"""Free-form rows judged without building their payload, when that is exact.

A row's payload is the template's attributes with the row's `attributes_json` merged over them, whole top-level
attribute by attribute. The payload has no issue at all (per-payload validator: Amazon's keywords, unknown
attributes, the draft 2019-09 schema) exactly when:

- every user attribute is a property of the product type, its value is valid under that property's schema
  (jsonschema-rs on the property schema with the root `$defs`) and Amazon's keywords find nothing in it;
- every column-wise check scoped to an attribute the user does not supply is clean for the row (the template's
  value of that attribute is what the payload carries; a `required` attribute the user supplies is present);
- no top-level rule (`allOf`/`if`/`then`/`else`/... beside `properties`) reads a user attribute, and the
  column-wise top-level checks are clean.

`UserAttributes.clean` answers the first point per row; `top_level_names` gives the attributes the top-level rules
read (None: they may read any). Rows this cannot clear are judged by the per-payload validator, so the issues are
always those of the per-payload path; rows it clears have none.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

from .compiled import CompiledProductType
from .issues import Issue

# Keywords a root-level subschema of the top-level rules may use while naming the attributes it reads.
_ROOT_APPLICATORS = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})
_ROOT_NAMING = frozenset({"required", "properties"})
_ANNOTATIONS = frozenset({"$comment", "title", "description", "examples", "default", "deprecated", "readOnly",
                          "writeOnly", "$lifecycle", "editable", "hidden"})
_OUTSIDE_REST = ("required", "properties", "additionalProperties", "type", "$defs", "$schema", "$id")


def top_level_names(schema: dict[str, Any]) -> frozenset[str] | None:
    """The attributes the schema's top-level rules (everything beside `required`, `properties`,
    `additionalProperties`, `type`) read, or None when a rule may read attributes it does not name."""
    names: set[str] = set()

    def visit(node: Any, depth: int) -> bool:
        if node is True or node is False:
            return True
        if not isinstance(node, dict) or depth > 32:
            return False
        for key, value in node.items():
            if key in _ANNOTATIONS:
                continue
            if key == "required":
                if not isinstance(value, list):
                    return False
                names.update(str(v) for v in value)
            elif key == "properties":
                if not isinstance(value, dict):
                    return False
                names.update(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                if not isinstance(value, list) or not all(visit(v, depth + 1) for v in value):
                    return False
            elif key in ("not", "if", "then", "else"):
                if not visit(value, depth + 1):
                    return False
            else:
                return False
        return True

    rest = {k: v for k, v in schema.items() if k not in _OUTSIDE_REST}
    return frozenset(names) if visit(rest, 0) else None


class UserAttributes:
    """Judges the user attributes of free-form rows for one product type (all `requirements` values share the
    property schemas)."""

    def __init__(self, validator: CompiledProductType) -> None:
        self.product = validator
        self.properties = validator.properties
        self.defs = validator.schema.get("$defs", {})
        self.tree = validator._checks  # noqa: SLF001 - the same package's check tree
        self._validators: dict[str, Any] = {}
        self._verdicts: dict[str, bool] = {}

    def _validator(self, name: str) -> Any:
        found = self._validators.get(name)
        if found is None:
            schema = self.properties[name]
            text = json.dumps(schema)
            if not isinstance(schema, dict) or any(k in text for k in ('"$defs"', '"$id"', '"$anchor"', '"$recursive',
                                                                        '"$dynamic')) or any(
                    ref for ref in _refs(schema) if not ref.startswith("#/$defs/")):
                found = False  # resolution might differ from the full schema's: not judged here
            else:
                found = jsonschema_rs.Draft201909Validator({**schema, "$defs": self.defs}, validate_formats=True)
            self._validators[name] = found
        return found

    def clean(self, text: str, attributes: dict[str, Any]) -> bool:
        """Whether the user attributes (parsed from `text`) are all known, valid, and free of Amazon-keyword
        issues (deprecated attributes included)."""
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = self._clean(attributes)
            if len(self._verdicts) < 20_000:  # repeated objects are what the cache is for
                self._verdicts[text] = verdict
        return verdict

    def _clean(self, attributes: dict[str, Any]) -> bool:
        found: list[Issue] = []
        for name, value in attributes.items():
            if name not in self.properties:
                return False
            validator = self._validator(name)
            if validator is False or not validator.is_valid(value):
                return False
            sub = self.tree.properties.get(name)
            if sub is not None:
                sub.run(value, [name], found)
                if found:
                    return False
        return True


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            if key not in ("enum", "const", "examples", "default"):
                out.extend(_refs(value))
        return out
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
