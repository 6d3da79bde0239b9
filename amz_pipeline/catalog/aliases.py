"""Header and value aliases: seller spellings → canonical catalog columns, read from `schemas/column_aliases.json`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import schemas

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Names the pipeline adds to every frame; a seller column spelled like one is kept under `extra_<name>`.
RESERVED_COLUMNS = frozenset({"row", "marketplace_id", "attributes", "payload_hash", "offer_only_hash", "file"})


def normalize_header(header: str) -> str:
    """Case-fold, drop a BOM and surrounding blanks, turn every run of other characters into one `_`."""
    text = header.replace("\ufeff", "").strip().casefold()
    return _NON_ALNUM.sub("_", text).strip("_")


@cache
def canonical_columns() -> tuple[str, ...]:
    return tuple(schemas.load_json("column_aliases.json")["canonical_columns"])


@cache
def _alias_table() -> dict[str, str]:
    data = schemas.load_json("column_aliases.json")
    table = {normalize_header(c): c for c in data["canonical_columns"]}
    for canonical, spellings in data["aliases"].items():
        for spelling in spellings:
            table[normalize_header(spelling)] = canonical
    return table


@cache
def attribute_columns() -> frozenset[str]:
    """Column names the templates or product-type schemas know (`department`, `shoe_size`, ...): not canonical,
    but not unknown either."""
    names: set[str] = set()
    for template in sorted(schemas.path("templates").glob("*.json")):
        names.update(schemas.load_json(f"templates/{template.name}").get("source_columns", []))
    index = schemas.load_json("product_types/index.json") if schemas.path("product_types/index.json").exists() else {}
    for product_type in index:
        names.update(schemas.load_json(f"product_types/{product_type}.json").get("properties", {}))
    return frozenset(names)


@cache
def value_aliases(column: str) -> dict[str, str]:
    """`{lower-case spelling: canonical value}` for one column (canonical values map to themselves)."""
    groups = schemas.load_json("column_aliases.json")["value_aliases"].get(column, {})
    table: dict[str, str] = {}
    for canonical, spellings in groups.items():
        table[canonical.casefold()] = canonical
        for spelling in spellings:
            table[spelling.casefold()] = canonical
    return table


@dataclass
class HeaderMapping:
    """How one file's headers map: `rename` original → output name, `unknown` headers kept under a normalised name."""

    rename: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    conflicts: dict[str, list[str]] = field(default_factory=dict)


def map_headers(headers: list[str]) -> HeaderMapping:
    """Map a file's headers to canonical names.

    A header that is not a known spelling is kept (normalised, so product-type attribute columns such as
    `Department` arrive as `department`); it is listed in `unknown` unless a template or product-type schema
    names it. Two headers landing on the same name are a
    conflict the caller reports: silently picking one would lose the other's data.
    """
    table = _alias_table()
    mapping = HeaderMapping()
    claimed: dict[str, list[str]] = {}
    for index, header in enumerate(headers):
        normalized = normalize_header(header) or f"column_{index + 1}"
        target = table.get(normalized, normalized)
        if target in RESERVED_COLUMNS:
            target = f"extra_{target}"
        if normalized not in table and normalized not in attribute_columns():
            mapping.unknown.append(header)
        claimed.setdefault(target, []).append(header)
        mapping.rename[header] = target
    mapping.conflicts = {target: names for target, names in claimed.items() if len(names) > 1}
    return mapping
