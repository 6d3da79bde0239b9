"""`validate_attributes`: product-type issues for a frame of catalog rows, in the shared issue shape."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from amz_pipeline.catalog import mapping

from .issues import ERROR, Issue
from .registry import UnknownProductType, default_registry

ISSUE_COLUMNS = {"row": pl.Int64, "sku": pl.String, "field": pl.String, "rule": pl.String, "severity": pl.String,
                 "message": pl.String, "code": pl.String, "categories": pl.String}


def _cast_issues(frame: pl.DataFrame, marketplace_id: str) -> list[dict[str, Any]]:
    """Template cells that could not be cast to the attribute's type (rule `template_type`), column-wise."""
    out: list[dict[str, Any]] = []
    types = frame["__type"].unique().to_list()
    for product_type in types:
        group = frame.filter(pl.col("__type").eq_missing(product_type))
        plan = mapping.compile_plan(mapping.template_for(product_type), marketplace_id, dict(group.schema))
        checks = []
        for name, instances in plan.attributes.items():
            for compiled in instances:
                for path, leaf in compiled.leaves.items():
                    if leaf.failed is None or not leaf.columns:
                        continue
                    label = f"{name}.{'.'.join(str(p) for p in path)}"
                    checks.append((label, leaf, pl.when(compiled.present & leaf.failed).then(
                        pl.coalesce([pl.col(c).cast(pl.String) for c in leaf.columns]))))
        if not checks:
            continue
        failed = group.select("row", "sku", *[expr.alias(f"__c{i}") for i, (_, _, expr) in enumerate(checks)])
        for i, (label, leaf, _) in enumerate(checks):
            bad = failed.filter(pl.col(f"__c{i}").is_not_null())
            for row, sku, value in bad.select("row", "sku", f"__c{i}").iter_rows():
                out.append(_row(row, sku, Issue(
                    label.replace(".0.", "[0].").replace(".0", "[0]"), "template_type",
                    f"column {'/'.join(leaf.columns)} value {value!r} is not a valid {leaf.kind} for '{label}'.",
                    (label.split(".")[0],))))
    return out


def _row(row: Any, sku: Any, issue: Issue) -> dict[str, Any]:
    return {"row": row, "sku": sku, "field": issue.field, "rule": issue.rule, "severity": issue.severity,
            "message": issue.message, "code": issue.code, "categories": issue.category}


def validate_attributes(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    """Product-type issues for `frame` (canonical columns incl. `row`, `sku`, `product_type`, optional
    `attributes_json`) in `marketplace_id`: columns row, sku, field, rule, severity, message, code, categories.

    Each row's payload is what `build_payloads` sends (template output with `attributes_json` merged over it);
    every distinct (product type, requirements, attributes) is validated once by the compiled product-type validator.
    """
    registry = default_registry()
    if not frame.height:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    types = pl.col("product_type").cast(pl.String).str.strip_chars().str.to_uppercase() \
        if "product_type" in frame.columns else pl.lit(None, pl.String)
    work = frame.with_columns(types.alias("__type"))
    rows: list[dict[str, Any]] = _cast_issues(work, marketplace_id)
    user = "attributes_json" in frame.columns
    bad_json: dict[int, str] = {}
    if user:
        for index, text in enumerate(frame["attributes_json"].to_list()):
            if text is None:
                continue
            try:
                mapping.parse_user_attributes(text)
            except ValueError as error:
                bad_json[index] = str(error)
    clean = work.with_row_index("__n")
    if bad_json:
        clean = clean.with_columns(pl.when(pl.col("__n").is_in(list(bad_json))).then(None)
                                   .otherwise(pl.col("attributes_json")).alias("attributes_json"))
    built = mapping.build_payloads(clean.drop("__type"), marketplace_id)
    verdicts: dict[tuple[str, str, str], list[Issue]] = {}
    for n, row, sku, product_type, requirements, attributes in built.select(
            "__n", "row", "sku", pl.col("product_type").cast(pl.String).str.strip_chars().str.to_uppercase(),
            "requirements", "attributes").iter_rows():
        if n in bad_json:
            rows.append(_row(row, sku, Issue("attributes_json", "json", bad_json[n], ("attributes_json",))))
            continue
        key = (product_type or "", requirements, attributes)
        issues = verdicts.get(key)
        if issues is None:
            issues = _judge(registry, product_type, requirements, attributes)
            verdicts[key] = issues
        rows.extend(_row(row, sku, issue) for issue in issues)
    return pl.DataFrame(rows, schema=ISSUE_COLUMNS) if rows else pl.DataFrame(schema=ISSUE_COLUMNS)


def _judge(registry: Any, product_type: str | None, requirements: str, attributes: str) -> list[Issue]:
    if not product_type:
        return [Issue("product_type", "required", "the product type is missing.", ())]
    try:
        validator = registry.get(product_type, requirements)
    except UnknownProductType as error:
        return [Issue("product_type", "product_type", str(error), (), ERROR)]
    return validator.validate(json.loads(attributes))
