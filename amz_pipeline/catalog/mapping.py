"""Template mapping: flat catalog columns → Amazon attribute JSON, built column-wise in Polars.

The templates in `schemas/templates/` (format in `schemas/templates/README.md`) are compiled, per product type and
marketplace, into one Polars expression per leaf value and then into JSON text with `concat_str`: keys are written in
sorted order with no whitespace, strings escaped exactly as `json.dumps(ensure_ascii=False)` does, so the `attributes`
column is canonical JSON. No Python object is built per row on this path. Ingestion does not build payloads: it
fingerprints the rows (`amz_pipeline.catalog.fingerprints`), and the JSON is built here only for the rows that are
compared or sent (`attributes_for`). Rows carrying free-form `attributes_json` are merged
in Python (attribute by attribute, the row's JSON wins), as are the rare rows holding a number below 1e-4, which
Polars writes in a different exponent form than Python.

`requirements` is `LISTING_OFFER_ONLY` when the row offers on an existing ASIN (`merchant_suggested_asin`) and carries
no product facts (no item name, brand, description, bullet points or product id): such a payload holds only the offer
attributes (the `_offer` template) and the ASIN. Every other row is `LISTING`.

FBA rows (`fulfillment_channel_code` `AMAZON_*`) never carry a quantity, handling time or restock date: Amazon counts
FBA stock itself, and a merchant (`DEFAULT`) quantity on them would be wrong.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

import schemas
from amz_pipeline.hashing import canonical_json

FBA_DROPPED = ("quantity", "lead_time_to_ship_max_days", "restock_date")
PRODUCT_FACT_COLUMNS = ("item_name", "brand", "product_description", "bullet_point_1", "bullet_point_2",
                        "bullet_point_3", "bullet_point_4", "bullet_point_5", "external_product_id")
GENERIC_TEMPLATE = "PRODUCT"
OUTPUT_COLUMNS = ("attributes", "requirements", "payload_hash", "offer_only_hash")
_TRUE = ("true", "yes", "y", "1", "t", "ja", "oui", "si", "sí")
_FALSE = ("false", "no", "n", "0", "f", "nein", "non")
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
_PLAN_LOCK = threading.Lock()


class TemplateError(ValueError):
    """A template file that does not follow schemas/templates/README.md."""


# --- templates -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """One instance of an attribute: leaf paths → sources, when it is emitted, and its selectors."""

    attribute: str
    fields: tuple[tuple[str, Any], ...]
    present_if_any: tuple[str, ...] | None
    localized: bool
    marketplace_id: bool


@dataclass(frozen=True)
class Template:
    name: str
    product_type: str
    attributes: dict[str, tuple[Instance, ...]] = field(hash=False)
    offer_attributes: frozenset[str] = frozenset()
    completes_required: dict[str, Any] = field(default_factory=dict, hash=False)


def _instances(name: str, spec: dict[str, Any]) -> tuple[Instance, ...]:
    localized = bool(spec.get("localized", False))
    with_marketplace = bool(spec.get("marketplace_id", True))
    shared_present = spec.get("present_if_any")
    if "value" in spec:
        raw = [{"fields": {"value": spec["value"]}, "present_if_any": shared_present}]
    elif "values" in spec:
        raw = [{"fields": {"value": source}} for source in spec["values"]]
    elif "fields" in spec:
        raw = [{"fields": spec["fields"], "present_if_any": shared_present}]
    elif "instances" in spec:
        raw = spec["instances"]
    else:
        raise TemplateError(f"attribute {name!r} has none of value, values, fields, instances")
    out = []
    for item in raw:
        present = item.get("present_if_any")
        out.append(Instance(name, tuple(sorted(item["fields"].items())), tuple(present) if present else None,
                            localized, with_marketplace))
    return tuple(out)


@cache
def load_template(name: str) -> Template:
    """The effective template `name` (inheritance resolved: `SHOES → PRODUCT → _offer`)."""
    path = schemas.path(f"templates/{name}.json")
    if not path.is_file():
        raise TemplateError(f"no template {name!r} in schemas/templates/")
    data = schemas.load_json(f"templates/{name}.json")
    parent = load_template(data["extends"]) if data.get("extends") else None
    attributes = dict(parent.attributes) if parent else {}
    own = {attr: _instances(attr, spec) for attr, spec in data.get("attributes", {}).items()}
    attributes.update(own)
    offer = parent.offer_attributes if parent else frozenset()
    if name == "_offer":
        offer = frozenset(own)
    return Template(name, data.get("product_type", name), attributes, offer, data.get("completes_required", {}))


def template_for(product_type: str | None) -> Template:
    """The product type's template; the generic PRODUCT template for a type without one."""
    if product_type and schemas.path(f"templates/{product_type}.json").is_file() and not product_type.startswith("_"):
        return load_template(product_type)
    return load_template(GENERIC_TEMPLATE)


# --- marketplace context ---------------------------------------------------------------------------------------


@cache
def marketplace_context(marketplace_id: str) -> dict[str, str]:
    for market in schemas.load_json("marketplaces.json")["marketplaces"]:
        if marketplace_id in (market["id"], market["country_code"]):
            return {"marketplace_id": market["id"], "currency": market["currency"], "region": market["region"],
                    "country_code": market["country_code"], "language_tag": market["default_language_tag"]}
    raise ValueError(f"unknown marketplace {marketplace_id!r}: not in schemas/marketplaces.json")


def _interpolate(value: Any, context: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), value)
    return value


# --- leaves: typed values and their JSON text ------------------------------------------------------------------


@dataclass
class Leaf:
    """A leaf value as a Polars expression (null when absent), its JSON text, and where casting failed."""

    value: pl.Expr
    json: pl.Expr
    kind: str  # string | number | integer | boolean | const
    columns: tuple[str, ...] = ()
    failed: pl.Expr | None = None
    has_default: bool = False
    const: Any = None


def _text(frame_schema: dict[str, pl.DataType], names: list[str]) -> pl.Expr:
    parts = []
    for name in names:
        if name not in frame_schema:
            continue
        column = pl.col(name)
        if frame_schema[name] != pl.String:
            column = column.cast(pl.String)
        parts.append(column.str.strip_chars().replace("", None))
    if not parts:
        return pl.lit(None, pl.String)
    return parts[0] if len(parts) == 1 else pl.coalesce(parts)


def quote(expr: pl.Expr, escape: bool) -> pl.Expr:
    """JSON string literal of a String expression (null stays null). `escape=False` only when no value holds `"`,
    a backslash or a control character (checked on the data first: escaping costs ~0.2 s per 1M cells)."""
    if escape:
        encoded = pl.struct(expr.alias("v")).struct.json_encode()
        return pl.when(expr.is_not_null()).then(encoded.str.slice(5, encoded.str.len_chars() - 6))
    return pl.concat_str([pl.lit('"'), expr, pl.lit('"')])


def _parse(text: pl.Expr, kind: str) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, failed) for a non-null text."""
    if kind == "string":
        return text, pl.lit(False)
    if kind in ("number", "integer"):
        number = text.cast(pl.Float64, strict=False)
        ok = number.is_not_null() & number.is_finite()
        if kind == "integer":
            ok = ok & (number == number.floor()) & (number.abs() < 2**53)
            return pl.when(ok).then(number.cast(pl.Int64)), text.is_not_null() & ~ok.fill_null(False)
        return pl.when(ok).then(number), text.is_not_null() & ~ok.fill_null(False)
    if kind == "boolean":
        key = text.str.to_lowercase()
        value = pl.when(key.is_in(_TRUE)).then(pl.lit(True)).when(key.is_in(_FALSE)).then(pl.lit(False))
        return value, text.is_not_null() & value.is_null()
    if kind == "date":
        head = text.str.slice(0, 10)
        parsed = head.str.to_date("%Y-%m-%d", strict=False)
        tail_ok = (text.str.len_chars() == 10) | text.str.slice(10, 1).is_in(["T", " "])
        value = pl.when(tail_ok).then(parsed.dt.strftime("%Y-%m-%d"))
        return value, text.is_not_null() & value.is_null()
    if kind == "datetime":
        iso = text.str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
        iso = (pl.when(iso.str.len_chars() == 10).then(iso + "T00:00:00+00:00")
               .when(~iso.str.contains(r"[+-]\d\d:\d\d$")).then(iso + "+00:00").otherwise(iso))
        parsed = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC")
        value = parsed.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return value, text.is_not_null() & value.is_null()
    raise TemplateError(f"unknown template type {kind!r}")


def compile_leaf(source: dict[str, Any], context: dict[str, str], frame_schema: dict[str, pl.DataType],
                 language_tag: pl.Expr) -> Leaf:
    if "const" in source:
        value = _interpolate(source["const"], context)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return Leaf(pl.lit(value), pl.lit(text), "const", const=value)
    names = source["column"] if isinstance(source["column"], list) else [source["column"]]
    kind = source.get("type", "string")
    text = _text(frame_schema, names)
    if source.get("case") == "lower":
        text = text.str.to_lowercase()
    elif source.get("case") == "upper":
        text = text.str.to_uppercase()
    if source.get("map"):
        keys = [str(k).lower() for k in source["map"]]
        values = [str(_interpolate(v, context)) for v in source["map"].values()]
        lowered = text.str.to_lowercase()
        text = pl.when(lowered.is_in(keys)).then(lowered.replace_strict(keys, values, default=None)).otherwise(text)
    value, failed = _parse(text, kind)
    default = source.get("default")
    has_default = default is not None
    if has_default:
        if isinstance(default, dict) and "by_marketplace" in default:
            table = default["by_marketplace"]
            default = table.get(context["country_code"], table.get("*"))
        default = _interpolate(default, context)
        if default is not None:
            value = pl.when(text.is_null()).then(pl.lit(default)).otherwise(value)
    json_kind = "string" if kind in ("string", "date", "datetime") else kind
    return Leaf(value, pl.lit(None), json_kind, tuple(n for n in names if n in frame_schema), failed, has_default)


def leaf_json(leaf: Leaf, escape: bool) -> pl.Expr:
    if leaf.kind == "const":
        return leaf.json
    if leaf.kind == "string":
        return quote(leaf.value.cast(pl.String), escape)
    if leaf.kind == "boolean":
        return pl.when(leaf.value).then(pl.lit("true")).when(~leaf.value).then(pl.lit("false"))
    return leaf.value.cast(pl.String)


# --- compiled plan: one per (template, marketplace, frame columns) ----------------------------------------------


@dataclass
class CompiledInstance:
    instance: Instance
    leaves: dict[tuple[str | int, ...], Leaf]  # path inside the instance → leaf (selectors included)
    present: pl.Expr


@dataclass
class Plan:
    """A template compiled for one marketplace and one frame schema. Leaf values and instance conditions point at
    `__leaf*` / `__cond*` columns that `materialize` adds (`columns` holds their definitions): every later
    expression (JSON, validation) then stays small, and the plan can be cached and shared (it is never mutated)."""

    template: Template
    context: dict[str, str]
    attributes: dict[str, list[CompiledInstance]]
    offer_only: pl.Expr
    channel: pl.Expr | None
    columns: list[pl.Expr] = field(default_factory=list)


def _split_path(path: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for segment in path.split("."):
        if segment.endswith("[0]"):
            parts.extend([segment[:-3], 0])
        else:
            parts.append(segment)
    return tuple(parts)


def compile_plan(template: Template, marketplace_id: str, frame_schema: dict[str, pl.DataType]) -> Plan:
    """The plan of `template` for frames with `frame_schema` (cached: the same template, marketplace and columns
    give the same object, also across threads; treat it as read-only)."""
    with _PLAN_LOCK:
        return _compile_plan(template, marketplace_id, tuple(frame_schema.items()))


@cache
def _compile_plan(template: Template, marketplace_id: str, schema_items: tuple[tuple[str, pl.DataType], ...]) -> Plan:
    frame_schema = dict(schema_items)
    context = marketplace_context(marketplace_id)
    language = _text(frame_schema, ["language_tag"]).fill_null(pl.lit(context["language_tag"]))
    context_for_strings = dict(context)
    attributes: dict[str, list[CompiledInstance]] = {}
    channel: pl.Expr | None = None
    for name, instances in sorted(template.attributes.items()):
        compiled = []
        for instance in instances:
            leaves: dict[tuple[str | int, ...], Leaf] = {}
            for path, source in instance.fields:
                leaves[_split_path(path)] = compile_leaf(source, context_for_strings, frame_schema, language)
            if instance.marketplace_id:
                leaves[("marketplace_id",)] = Leaf(pl.lit(context["marketplace_id"]),
                                                   pl.lit(json.dumps(context["marketplace_id"])), "const",
                                                   const=context["marketplace_id"])
            if instance.localized:
                leaves[("language_tag",)] = Leaf(language, pl.lit(None), "string", ("language_tag",),
                                                 has_default=True)
            if instance.present_if_any is not None:
                columns = [c for c in instance.present_if_any if c in frame_schema]
            else:
                columns = sorted({c for leaf in leaves.values() if not leaf.has_default for c in leaf.columns})
                if not columns and not any(not leaf.has_default and leaf.kind != "const" for leaf in leaves.values()):
                    columns = None  # type: ignore[assignment]
            if columns is None:
                present = pl.lit(True)
            elif not columns:
                present = pl.lit(False)
            else:
                present = pl.any_horizontal([_text(frame_schema, [c]).is_not_null() for c in columns])
            if name == "fulfillment_availability" and ("fulfillment_channel_code",) in leaves:
                channel = leaves[("fulfillment_channel_code",)].value
            compiled.append(CompiledInstance(instance, leaves, present))
        attributes[name] = compiled
    if channel is not None:
        is_fba = channel.cast(pl.String).str.starts_with("AMAZON_").fill_null(False)
        for compiled_instance in attributes["fulfillment_availability"]:
            for path, leaf in compiled_instance.leaves.items():
                if path[0] in FBA_DROPPED:
                    leaf.value = pl.when(~is_fba).then(leaf.value)
    return _pointed_at_columns(Plan(template, context, attributes, _offer_only(frame_schema), channel))


def _offer_only(frame_schema: dict[str, pl.DataType]) -> pl.Expr:
    facts = [_text(frame_schema, [c]).is_not_null() for c in PRODUCT_FACT_COLUMNS if c in frame_schema]
    asin = _text(frame_schema, ["merchant_suggested_asin"]).is_not_null()
    return asin & ~pl.any_horizontal(facts) if facts else asin


def requirements_expr(frame_schema: dict[str, pl.DataType]) -> pl.Expr:
    """`LISTING_OFFER_ONLY` for a row offering on an existing ASIN with no product facts, else `LISTING`."""
    return pl.when(_offer_only(frame_schema)).then(pl.lit("LISTING_OFFER_ONLY")).otherwise(pl.lit("LISTING"))


def _pointed_at_columns(plan: Plan) -> Plan:
    """Move every leaf value and instance condition into a `__leaf*` / `__cond*` column definition."""
    columns: list[pl.Expr] = []
    for instances in plan.attributes.values():
        for compiled in instances:
            name = f"__cond{len(columns)}"
            columns.append(compiled.present.alias(name))
            compiled.present = pl.col(name)
            for leaf in compiled.leaves.values():
                if leaf.kind == "const":
                    continue
                name = f"__leaf{len(columns)}"
                columns.append(leaf.value.alias(name))
                leaf.value = pl.col(name)
    columns.append(plan.offer_only.alias("__offer_only"))
    plan.offer_only = pl.col("__offer_only")
    plan.columns = columns
    return plan


# --- JSON assembly ---------------------------------------------------------------------------------------------


# A JSON fragment is built as a sequence of parts (literal text or String expressions) that is null when any
# expression part is null; presence is tracked as a boolean beside it, so no string is ever inspected to learn
# whether it is empty, and a sequence becomes one expression only where it is used (few copies of long strings).
Part = str | pl.Expr
Presence = bool | pl.Expr


@dataclass
class Fragment:
    parts: list[Part]
    present: Presence  # True: always (holds a constant); otherwise a boolean expression (never null)


def _any(conditions: list[Presence]) -> Presence:
    if any(c is True for c in conditions):
        return True
    exprs = [c for c in conditions if c is not False]
    if not exprs:
        return False
    return exprs[0] if len(exprs) == 1 else pl.any_horizontal(exprs)  # type: ignore[arg-type]


def _expression(parts: list[Part]) -> pl.Expr:
    """One String expression for `parts` (adjacent literals merged; `+` for short sequences: it is the cheapest
    concatenation in Polars, and null-propagating)."""
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif not (isinstance(part, str) and not part):
            merged.append(part)
    exprs = [pl.lit(p) if isinstance(p, str) else p for p in merged]
    if not exprs:
        return pl.lit("")
    if len(exprs) > 4:
        return pl.concat_str(exprs)
    out = exprs[0]
    for expr in exprs[1:]:
        out = out + expr
    return out


def _gated(fragment: Fragment, condition: Presence) -> Fragment:
    """`fragment` only where `condition` holds (an empty-or-null part in front: cheaper than when/then on text)."""
    if condition is True:
        return fragment
    present = condition if fragment.present is True else pl.all_horizontal([condition, fragment.present])
    return Fragment([pl.when(condition).then(pl.lit("")), *fragment.parts], present)


def _joined(fragments: list[Fragment], open_: str, close: str) -> Fragment:
    """`open_` + fragments separated by commas (absent ones left out) + `close`; absent when all are."""
    present = _any([f.present for f in fragments])
    if len(fragments) == 1:
        return Fragment([open_, *fragments[0].parts, close], fragments[0].present)
    inner = pl.concat_str([_expression(f.parts) for f in fragments], separator=",", ignore_nulls=True)
    body = Fragment([open_, inner, close], True)
    return body if present is True else _gated(body, present)


def _object(members: list[tuple[str, Fragment]]) -> Fragment:
    """JSON object of (key, value) members, keys sorted; absent when no member is present."""
    fragments = [Fragment([json.dumps(key, ensure_ascii=False) + ":", *value.parts], value.present)
                 for key, value in sorted(members, key=lambda m: m[0])]
    return _joined(fragments, "{", "}")


def _tree_json(leaves: dict[tuple[str | int, ...], Fragment], prefix: tuple[str | int, ...] = ()) -> Fragment:
    """JSON of the object at `prefix`, from leaves keyed by full path (a `0` segment is a one-element array)."""
    children: dict[str | int, dict] = {}
    for path in leaves:
        if path[: len(prefix)] == prefix and len(path) > len(prefix):
            children.setdefault(path[len(prefix)], {})
    members = []
    for key in children:
        child_prefix = (*prefix, key)
        if child_prefix in leaves:
            members.append((str(key), leaves[child_prefix]))
            continue
        nested = any(p[: len(child_prefix) + 1] == (*child_prefix, 0) for p in leaves)
        if nested:
            inner = _tree_json(leaves, (*child_prefix, 0))
            members.append((str(key), Fragment(["[", *inner.parts, "]"], inner.present)))
        else:
            members.append((str(key), _tree_json(leaves, child_prefix)))
    return _object(members)


def _leaf_fragment(leaf: Leaf, escape: bool) -> Fragment:
    if leaf.kind == "const":
        return Fragment([json.dumps(leaf.const, ensure_ascii=False, separators=(",", ":"), sort_keys=True)], True)
    present = leaf.value.is_not_null()
    if leaf.kind == "string" and not escape:
        return Fragment(['"', leaf.value.cast(pl.String), '"'], present)
    return Fragment([leaf_json(leaf, escape)], present)


def attribute_fragments(plan: Plan, frame: pl.DataFrame, gate: dict[str, Presence] | None = None
                        ) -> dict[str, Fragment]:
    """Attribute name → its JSON value (`[...]`, absent when the row has none), escaping only the string leaves
    whose column holds a character that needs it (all checked in one query). `gate`: attribute → condition."""
    strings = {leaf.value.meta.output_name(): leaf.value for instances in plan.attributes.values()
               for compiled in instances for leaf in compiled.leaves.values() if leaf.kind == "string"}
    escape = frame.select(value.cast(pl.String).str.contains(_NEEDS_ESCAPE).any().alias(name)
                          for name, value in strings.items()).row(0, named=True) if strings else {}
    members: dict[str, Fragment] = {}
    for name, instances in plan.attributes.items():
        condition = (gate or {}).get(name, True)
        fragments = []
        for compiled in instances:
            leaves = {path: _leaf_fragment(leaf, leaf.kind == "string" and bool(escape[leaf.value.meta.output_name()]))
                      for path, leaf in compiled.leaves.items()}
            body = _tree_json(leaves)
            instance_condition = compiled.present if condition is True else pl.all_horizontal(
                [condition, compiled.present])  # type: ignore[list-item]
            fragments.append(_gated(body, instance_condition))
        members[name] = _joined(fragments, "[", "]")
    return members


def _join_members(members: list[tuple[str, Fragment]]) -> pl.Expr:
    """The attributes object: members in sorted order (`{}` when none is present)."""
    parts = [_expression([json.dumps(k, ensure_ascii=False) + ":", *f.parts]) for k, f in sorted(members, key=lambda m: m[0])]
    if not parts:
        return pl.lit("{}")
    return pl.lit("{") + pl.concat_str(parts, separator=",", ignore_nulls=True) + pl.lit("}")


def _tiny_number(plan: Plan) -> pl.Expr:
    """Rows holding a non-zero number below 1e-4 in magnitude: Polars writes `1e-5` where Python writes `1e-05`."""
    checks = [leaf.value.cast(pl.Float64).abs().is_between(0, 1e-4, closed="none").fill_null(False)
              for instances in plan.attributes.values() for compiled in instances
              for leaf in compiled.leaves.values() if leaf.kind == "number"]
    return pl.any_horizontal(checks) if checks else pl.lit(False)


# --- public ----------------------------------------------------------------------------------------------------


def materialize(plan: Plan, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the plan's `__leaf*` / `__cond*` / `__offer_only` columns, in one query."""
    return frame.with_columns(plan.columns)


def helper_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(("__leaf", "__cond")) or c == "__offer_only"]


def _build_group(frame: pl.DataFrame, marketplace_id: str, product_type: str | None) -> pl.DataFrame:
    template = template_for(product_type)
    plan = compile_plan(template, marketplace_id, dict(frame.schema))
    user = "attributes_json" in frame.columns
    tiny = _tiny_number(plan)
    python = pl.col("__tiny") | pl.col("attributes_json").is_not_null() if user else pl.col("__tiny")
    work = frame.with_columns(plan.columns)
    work = work.with_columns(tiny.alias("__tiny")).with_columns(python.alias("__python"))
    kept = set(template.offer_attributes) | {"merchant_suggested_asin"}
    gate: dict[str, Presence] = {name: ~plan.offer_only for name in plan.attributes if name not in kept}
    gated = sorted(attribute_fragments(plan, work, gate).items(), key=lambda m: m[0])
    requirements = pl.when(plan.offer_only).then(pl.lit("LISTING_OFFER_ONLY")).otherwise(pl.lit("LISTING"))
    redo = int(work["__python"].sum())
    columnwise = work if not redo else work.filter(~pl.col("__python"))
    in_python = work.clear() if not redo else work.filter(pl.col("__python"))
    parts = []
    if columnwise.height:
        texts = [(name, Fragment([pl.col(f"__m{i}")], fragment.present)) for i, (name, fragment) in enumerate(gated)]
        parts.append(columnwise.with_columns(
            _expression(fragment.parts).alias(f"__m{i}") for i, (_, fragment) in enumerate(gated)
        ).with_columns(
            _join_members(texts).alias("attributes"), requirements.alias("requirements"),
        ).drop([f"__m{i}" for i in range(len(gated))]))
    if in_python.height:
        parts.append(_merge_in_python(in_python, gated, requirements, user))
    built = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
    return built.drop(*helper_columns(built), "__python", "__tiny")


def parse_user_attributes(text: str) -> dict[str, Any]:
    """The row's `attributes_json`: a JSON object of attribute name → value. ValueError with the reason otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"attributes_json is not valid JSON: {error.msg} at character {error.pos}") from None
    if not isinstance(value, dict):
        raise ValueError("attributes_json must be a JSON object of attribute name → values")
    return value


def _merge_in_python(rows: pl.DataFrame, gated: list[tuple[str, Fragment]], requirements: pl.Expr, user: bool
                     ) -> pl.DataFrame:
    """Payloads of rows with free-form `attributes_json` (merged over the template attribute by attribute) or with a
    number Polars writes differently from Python. Polars gives each template attribute's JSON text; Python only
    parses the row's own JSON and joins the members, in sorted order, as canonical JSON."""
    names = [name for name, _ in gated]
    texts = rows.select(
        pl.col("attributes_json").cast(pl.String) if user else pl.lit(None, pl.String).alias("attributes_json"),
        "__tiny", *[_expression(fragment.parts).alias(f"__m{i}") for i, (_, fragment) in enumerate(gated)])
    keys = {name: json.dumps(name, ensure_ascii=False) for name in names}
    attributes = []
    for row, (user_json, tiny, *member_texts) in zip(rows["row"].to_list() if "row" in rows.columns
                                                     else range(rows.height), texts.iter_rows(), strict=True):
        merged = {name: text for name, text in zip(names, member_texts, strict=True) if text is not None}
        if tiny:
            merged = {name: canonical_json(json.loads(text)).decode("utf-8") for name, text in merged.items()}
        if user_json is not None:
            try:
                extra = parse_user_attributes(user_json)
            except ValueError as error:
                raise ValueError(f"row {row}: {error}") from None
            try:
                merged.update((name, canonical_json(value).decode("utf-8")) for name, value in extra.items())
            except ValueError as error:  # NaN or infinity
                raise ValueError(f"row {row}: attributes_json holds a value JSON cannot carry: {error}") from None
        attributes.append(_join_texts(sorted(merged), merged, keys))
    return rows.with_columns(pl.Series("attributes", attributes, pl.String), requirements.alias("requirements"))


def _join_texts(order: list[str], members: dict[str, str], keys: dict[str, str]) -> str:
    return "{" + ",".join(f"{keys.get(name) or json.dumps(name, ensure_ascii=False)}:{members[name]}"
                          for name in order) + "}"


def build_payloads(frame: pl.DataFrame, marketplace_id: str, *, hashes: bool = True) -> pl.DataFrame:
    """`frame` (canonical columns incl. `row`, `sku`, `product_type`, optional `attributes_json`) plus
    `attributes` (canonical JSON), `requirements`, and the fingerprints `payload_hash` and `offer_only_hash`
    (`amz_pipeline.catalog.fingerprints`, the same values ingestion gives the row). `hashes=False`: only
    `attributes` and `requirements`.

    Raises ValueError naming the row when a row's `attributes_json` is not a JSON object (validate first).
    """
    marketplace_context(marketplace_id)  # unknown marketplace: clear error before any work
    frame = frame.drop([c for c in OUTPUT_COLUMNS if c in frame.columns])
    if hashes:
        from amz_pipeline.catalog.fingerprints import payload_fingerprints

        frame = payload_fingerprints(frame, marketplace_id).drop("requirements")
    if not frame.height:
        return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in OUTPUT_COLUMNS[:2])
    indexed = frame.with_row_index("__i")
    types = pl.col("product_type").cast(pl.String) if "product_type" in frame.columns else pl.lit(None, pl.String)
    indexed = indexed.with_columns(types.str.strip_chars().str.to_uppercase().alias("__type"))
    parts = []
    for (product_type,), group in indexed.partition_by("__type", as_dict=True, maintain_order=True).items():
        try:
            parts.append(_build_group(group, marketplace_id, product_type))
        except ValueError as error:
            if isinstance(error, TemplateError):
                raise
            raise ValueError(f"{error} (product type {product_type})") from None
    built = pl.concat(parts, how="vertical_relaxed").sort("__i").drop("__i", "__type")
    return built.select(*[c for c in built.columns if c not in OUTPUT_COLUMNS], *[c for c in OUTPUT_COLUMNS if c in built.columns])


def attributes_for(rows: pl.DataFrame) -> pl.DataFrame:
    """`marketplace_id`, `sku`, `attributes` for valid catalog rows (normalised columns, any marketplaces): the
    payloads built on demand, for the rows that are actually sent or compared."""
    out = pl.DataFrame(schema={"marketplace_id": pl.String, "sku": pl.String, "attributes": pl.String})
    if not rows.height:
        return out
    parts = [out]
    for (marketplace_id,), group in rows.partition_by("marketplace_id", as_dict=True, maintain_order=True).items():
        built = build_payloads(group, marketplace_id, hashes=False)
        parts.append(built.select("marketplace_id", "sku", "attributes"))
    return pl.concat(parts)
