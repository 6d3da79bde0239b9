"""Where product-type schemas come from, and the cache of compiled validators.

Offline and in the demo the schemas are `schemas/product_types/<PRODUCT_TYPE>.json` with their required sets per
`requirements` in `schemas/product_types/index.json`. In production the SP-API client downloads them with
getDefinitionsProductType (the response's `schema.link` plus `schema.checksum`, Base64 MD5) and hands the parsed
schema and its checksum to `register`; a schema fetched for a given `requirements` already carries that required set.
Compiled validators are cached by (checksum, requirements, required set), so a schema that did not change is never
compiled twice, and a new version (new checksum) is compiled once, when first used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import schemas

from .compiled import REQUIREMENTS, CompiledProductType


class UnknownProductType(LookupError):
    """The product type has no schema locally and none was registered."""


def checksum_of(raw: bytes) -> str:
    """Base64 of the MD5 of the schema bytes: the form of `schema.checksum` in getDefinitionsProductType."""
    return base64.b64encode(hashlib.md5(raw).digest()).decode("ascii")


class ProductTypeRegistry:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or schemas.path("product_types")
        self._lock = threading.Lock()
        self._schemas: dict[str, tuple[dict[str, Any], str]] = {}
        self._required: dict[str, dict[str, list[str]]] = {}
        self._compiled: dict[tuple[str, str, tuple[str, ...]], CompiledProductType] = {}
        self._index: dict[str, Any] | None = None

    def index(self) -> dict[str, Any]:
        if self._index is None:
            path = self.directory / "index.json"
            self._index = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return self._index

    def product_types(self) -> list[str]:
        return sorted(set(self.index()) | set(self._schemas))

    def knows(self, product_type: str) -> bool:
        return product_type in self._schemas or (self.directory / f"{product_type}.json").is_file()

    def register(self, product_type: str, schema: dict[str, Any], checksum: str,
                 required_by_requirements: dict[str, list[str]] | None = None) -> None:
        """Use a schema downloaded from the Product Type Definitions API for `product_type` from now on."""
        with self._lock:
            self._schemas[product_type] = (schema, checksum)
            if required_by_requirements is not None:
                self._required[product_type] = dict(required_by_requirements)

    def schema(self, product_type: str) -> tuple[dict[str, Any], str]:
        """(schema, checksum) of `product_type`: registered first, else the local file."""
        found = self._schemas.get(product_type)
        if found is not None:
            return found
        path = self.directory / f"{product_type}.json"
        if not path.is_file():
            raise UnknownProductType(f"no schema for product type {product_type!r} (known: "
                                     f"{', '.join(self.product_types()) or 'none'})")
        raw = path.read_bytes()
        found = (json.loads(raw), checksum_of(raw))
        with self._lock:
            self._schemas.setdefault(product_type, found)
        return found

    def required(self, product_type: str, requirements: str, schema: dict[str, Any]) -> list[str]:
        """The required set for `requirements`: registered or from index.json, else the schema's own `required`."""
        by_requirements = self._required.get(product_type) or self.index().get(product_type, {}).get("requirements")
        if by_requirements and requirements in by_requirements:
            return list(by_requirements[requirements])
        return list(schema.get("required", []))

    def compile(self, schema: dict[str, Any], requirements: str = "LISTING", *, product_type: str | None = None,
                checksum: str | None = None, required: list[str] | None = None) -> CompiledProductType:
        """A validator for `schema` under `requirements`, from the cache when this checksum was compiled before."""
        if requirements not in REQUIREMENTS:
            raise ValueError(f"unknown requirements value {requirements!r}; expected one of {', '.join(REQUIREMENTS)}")
        name = product_type or str(schema.get("$id", "")).rsplit("/", 1)[-1] or "UNKNOWN"
        if checksum is None:
            checksum = checksum_of(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode("utf-8"))
        if required is None:
            required = self.required(name, requirements, schema)
        key = (checksum, requirements, tuple(required))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledProductType(name, schema, requirements, required, checksum)
            with self._lock:
                compiled = self._compiled.setdefault(key, compiled)
        return compiled

    def get(self, product_type: str, requirements: str = "LISTING") -> CompiledProductType:
        schema, checksum = self.schema(product_type)
        return self.compile(schema, requirements, product_type=product_type, checksum=checksum)


_DEFAULT: ProductTypeRegistry | None = None


def default_registry() -> ProductTypeRegistry:
    """The process-wide registry over `schemas/product_types/` (schemas registered into it are shared)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ProductTypeRegistry()
    return _DEFAULT
