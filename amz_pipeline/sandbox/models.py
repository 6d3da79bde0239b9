"""Amazon's Swagger 2.0 models, read as data: operation specs, parameter checks and body validators.

The sandbox validates requests against the very models it emulates, so required fields, types and enums are
enforced exactly where Amazon declares them, while unknown body keys and query parameters are ignored (real clients
send them and Amazon accepts them, although the models say `additionalProperties: false`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs

import schemas

from .errors import ApiError, invalid_input

MODEL_FILES = {
    "listingsItems": "listings-items-api-model/listingsItems_2021-08-01.json",
    "feeds": "feeds-api-model/feeds_2021-06-30.json",
    "definitions": "product-type-definitions-api-model/definitionsProductTypes_2020-09-01.json",
    "listingsRestrictions": "listings-restrictions-api-model/listingsRestrictions_2021-08-01.json",
}
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


@cache
def load_model(api: str) -> dict[str, Any]:
    return schemas.load_json(f"spapi/reference/models/{MODEL_FILES[api]}")


def swagger_schema(model: dict[str, Any], schema: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """A draft-07 JSON Schema for a Swagger schema object with the model's definitions attached.

    With `strict`, every object schema that lists `properties` and says nothing about additional ones gets
    `additionalProperties: false` (how strict generated clients read a response).
    """
    definitions = copy.deepcopy(model.get("definitions", {}))
    root = copy.deepcopy(schema)
    if strict:
        _close_objects(definitions)
        _close_objects(root)
    root["definitions"] = definitions
    root["$schema"] = "http://json-schema.org/draft-07/schema#"
    return root


def _close_objects(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_objects(value)
    elif isinstance(node, list):
        for value in node:
            _close_objects(value)


@dataclass
class ParamSpec:
    name: str
    location: str
    required: bool
    type: str | None
    spec: dict[str, Any]


@dataclass
class OperationSpec:
    api: str
    operation_id: str
    method: str
    path: str
    params: list[ParamSpec] = field(default_factory=list)
    body_validator: Any = None
    body_required: bool = False


@cache
def operations() -> dict[str, OperationSpec]:
    """Every operation of the emulated APIs, keyed by operationId."""
    out: dict[str, OperationSpec] = {}
    for api in MODEL_FILES:
        model = load_model(api)
        for path, item in model["paths"].items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                spec = OperationSpec(api, op["operationId"], method.upper(), path)
                for prm in [*shared, *op.get("parameters", [])]:
                    if prm["in"] == "body":
                        spec.body_validator = jsonschema_rs.Draft7Validator(swagger_schema(model, prm["schema"]))
                        spec.body_required = bool(prm.get("required"))
                    else:
                        spec.params.append(ParamSpec(prm["name"], prm["in"], bool(prm.get("required")),
                                                     prm.get("type"), prm))
                out[spec.operation_id] = spec
    return out


def split_list(values: list[str]) -> list[str]:
    """A list query parameter as Amazon accepts it: comma lists (`a,b`, `a%2Cb`) and repeated keys, mixed."""
    out: list[str] = []
    for value in values:
        out.extend(part for part in value.split(",") if part != "")
    return out


def _check_scalar(name: str, spec: dict[str, Any], value: str) -> Any:
    kind = spec.get("type", "string")
    if kind == "integer":
        try:
            result: Any = int(value)
        except ValueError:
            raise invalid_input(f"Invalid value for parameter '{name}'", f"'{value}' is not an integer.") from None
    elif kind == "number":
        try:
            result = float(value)
        except ValueError:
            raise invalid_input(f"Invalid value for parameter '{name}'", f"'{value}' is not a number.") from None
    elif kind == "boolean":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise invalid_input(f"Invalid value for parameter '{name}'", f"'{value}' is not a boolean.")
        result = lowered == "true"
    else:
        result = value
    enum = spec.get("enum")
    if enum is not None and result not in enum:
        raise invalid_input(f"Invalid value for parameter '{name}'",
                            f"'{value}' is not one of: {', '.join(map(str, enum))}.")
    if "maximum" in spec and result > spec["maximum"]:
        raise invalid_input(f"Invalid value for parameter '{name}'", f"{value} is greater than {spec['maximum']}.")
    if "minimum" in spec and result < spec["minimum"]:
        raise invalid_input(f"Invalid value for parameter '{name}'", f"{value} is less than {spec['minimum']}.")
    return result


def parse_query(spec: OperationSpec, multi: dict[str, list[str]]) -> dict[str, Any]:
    """Typed query parameters of an operation; unknown parameters are ignored, declared ones are checked."""
    out: dict[str, Any] = {}
    for prm in spec.params:
        if prm.location != "query":
            continue
        raw = multi.get(prm.name)
        if prm.type == "array":
            values = split_list(raw) if raw else []
            if not values:
                if prm.required:
                    raise invalid_input(f"Missing required parameter '{prm.name}'",
                                        f"The query parameter '{prm.name}' is required.")
                continue
            limits = prm.spec
            if "maxItems" in limits and len(values) > limits["maxItems"]:
                raise invalid_input(f"Invalid value for parameter '{prm.name}'",
                                    f"At most {limits['maxItems']} value(s) allowed, got {len(values)}.")
            out[prm.name] = [_check_scalar(prm.name, prm.spec.get("items", {}), v) for v in values]
        else:
            if not raw:
                if prm.required:
                    raise invalid_input(f"Missing required parameter '{prm.name}'",
                                        f"The query parameter '{prm.name}' is required.")
                continue
            out[prm.name] = _check_scalar(prm.name, prm.spec, raw[-1])
    return out


def validate_body(spec: OperationSpec, body: Any) -> None:
    """Required fields, types and enums of the body per the model; unknown keys pass."""
    if spec.body_validator is None:
        return
    for error in spec.body_validator.iter_errors(body):
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            continue  # tolerated: real clients add keys the models do not declare
        where = "/".join(str(p) for p in error.instance_path) or "body"
        raise ApiError(400, "Invalid input", f"{where}: {error.message}")
