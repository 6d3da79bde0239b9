"""One product type compiled for one `requirements` value: the per-payload validator for free-form attributes."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs

from .issues import Issue, format_path
from .vocabulary import compile_checks, keyword_classes

REQUIREMENTS = ("LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY")
_KINDS = jsonschema_rs.ValidationErrorKind


class CompiledProductType:
    """Validates attribute payloads (dicts) against a product-type schema under one `requirements` value.

    `schema` is used as given except that its top-level `required` becomes `required` (the set for the
    `requirements` value; conditional `allOf` requirements still apply). The draft 2019-09 part runs in
    jsonschema-rs with formats asserted (`date`, `date-time`); Amazon's keywords run from a compiled check tree.
    `validate` costs one `is_valid` plus the tree walk for a valid payload; errors are collected only when needed.
    """

    def __init__(self, product_type: str, schema: dict[str, Any], requirements: str, required: list[str],
                 checksum: str) -> None:
        if requirements not in REQUIREMENTS:
            raise ValueError(f"unknown requirements value {requirements!r}; expected one of {', '.join(REQUIREMENTS)}")
        self.product_type = product_type
        self.requirements = requirements
        self.checksum = checksum
        effective = copy.deepcopy(schema)
        effective.pop("$schema", None)  # Amazon's meta-schema URI is an identifier, not retrievable
        effective["required"] = list(required)
        self.schema = effective
        self.required = tuple(required)
        self.properties: dict[str, Any] = effective.get("properties", {})
        self._checks, covered = compile_checks(effective)
        keywords = None if covered else keyword_classes()
        if not covered:
            self._checks, _ = compile_checks({})
        self._validator = jsonschema_rs.Draft201909Validator(effective, validate_formats=True, keywords=keywords)

    def resolve(self, node: Any) -> Any:
        """`node` with a local `$ref` (`#/$defs/...`) followed."""
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return self.schema.get("$defs", {}).get(ref[len("#/$defs/"):], {})
        return node

    def validate(self, attributes: Any) -> list[Issue]:
        """Every violation in `attributes` (an empty list when it is valid). Warnings (deprecated attributes) are
        issues with severity `warning`."""
        if not isinstance(attributes, dict):
            return [Issue("attributes", "type", "the attributes must be a JSON object of attribute name → values.", ())]
        found: list[Issue] = []
        self._checks.run(attributes, [], found)
        unknown = [name for name in attributes if name not in self.properties]
        for name in unknown:
            found.append(Issue(name, "additionalProperties",
                               f"'{name}' is not an attribute of product type {self.product_type}.", (name,)))
        if not self._validator.is_valid(attributes):
            seen: set[tuple[str, str]] = set()
            for error in self._validator.iter_errors(attributes):
                for issue in self._issues(error):
                    if (issue.field, issue.rule) not in seen:
                        seen.add((issue.field, issue.rule))
                        found.append(issue)
        return found

    def _issues(self, error: Any) -> list[Issue]:
        kind = error.kind
        path = list(error.instance_path)
        top = (str(path[0]),) if path else ()
        conditional = any(part in ("then", "else") for part in error.schema_path)
        if isinstance(kind, _KINDS.Required):
            field = format_path([*path, kind.property])
            rule = "conditional_required" if conditional else "required"
            why = " by a conditional rule of the product type" if conditional else ""
            return [Issue(field, rule, f"'{field}' is required{why} but not supplied.", top or (kind.property,))]
        if isinstance(kind, _KINDS.AdditionalProperties):
            if not path:
                return []  # unknown attributes are reported once, by name
            return [Issue(format_path([*path, name]), "additionalProperties",
                          f"'{format_path([*path, name])}' is not a property of this attribute.", top)
                    for name in kind.unexpected]
        if isinstance(kind, _KINDS.AnyOf | _KINDS.OneOfNotValid):
            alternatives = _required_alternatives(kind)
            if alternatives:
                names = tuple(format_path([*path, a]) for a in alternatives)
                rule = "conditional_required" if conditional or not path else "required"
                shown = " or ".join(f"'{n}'" for n in names)
                return [Issue("|".join(names), rule, f"{shown} is required but not supplied.",
                              top or tuple(alternatives))]
        field = format_path(path) or "attributes"
        if isinstance(kind, _KINDS.Custom):
            return [Issue(field, kind.keyword, f"'{field}' {kind.message}.", top)]
        rule = kind.name
        if rule == "not" and conditional:
            rule = "conditional_forbidden"
        detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        return [Issue(field, rule, f"'{field}' is invalid ({rule}): {detail}", top)]


def _required_alternatives(kind: Any) -> list[str]:
    """The properties of an anyOf/oneOf whose every branch failed only on `required`."""
    missing: list[str] = []
    for branch in getattr(kind, "context", None) or []:
        for error in branch:
            if not isinstance(error.kind, _KINDS.Required):
                return []
            missing.append(error.kind.property)
    return missing
