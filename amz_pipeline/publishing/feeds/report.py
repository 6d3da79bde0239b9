"""JSON_LISTINGS_FEED processing reports → per-SKU outcomes.

The report is gunzipped when needed, validated against Amazon's `listings-feed-processing-report-schema-v2.json`, and
its issues are mapped to jobs through the submission's stored messageId map (never by SKU text alone: a SKU could
appear in two feeds). A message with an ERROR issue is INVALID; every other message of a DONE feed was accepted.
Issues without a messageId concern the whole feed and are returned separately.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from typing import Any

import jsonschema_rs

import schemas
from amz_pipeline.publishing.outcomes import JobOutcome

REPORT_SCHEMA = "spapi/reference/schemas/feeds/listings-feed-processing-report-schema-v2.json"


class ReportError(ValueError):
    """The result document is not a processing report we can trust (not JSON, or fails the official schema)."""


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(schemas.load_json(REPORT_SCHEMA))


def parse(raw: bytes) -> dict[str, Any]:
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        report = json.loads(raw)
    except ValueError as exc:
        raise ReportError(f"processing report is not JSON: {exc}") from None
    errors = [f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}" for e in _validator().iter_errors(report)]
    if errors:
        raise ReportError("processing report fails the official schema: " + "; ".join(errors[:5]))
    return report


def _as_listing_issue(issue: dict[str, Any]) -> dict[str, Any]:
    """Report issues carry one `attributeName`; listing issues (Listings API shape) carry `attributeNames`."""
    out = {"code": issue.get("code") or "", "severity": issue["severity"], "message": issue["message"]}
    if issue.get("attributeName"):
        out["attributeNames"] = [issue["attributeName"]]
    return out


def outcomes(report: dict[str, Any], message_map: dict[str, Any]) -> tuple[list[JobOutcome], list[dict[str, Any]]]:
    """One JobOutcome per message of the submission, and the feed-level issues."""
    by_message: dict[int, list[dict[str, Any]]] = {}
    failed: set[int] = set()
    feed_level: list[dict[str, Any]] = []
    for issue in report.get("issues", []):
        if issue.get("messageId") is None:
            feed_level.append(issue)
            continue
        message_id = int(issue["messageId"])
        by_message.setdefault(message_id, []).append(_as_listing_issue(issue))
        if issue["severity"] == "ERROR":
            failed.add(message_id)
    asins: dict[str, str] = {}
    for item in report.get("items", []) or []:
        for summary in item.get("summaries", []) or []:
            if summary.get("asin"):
                asins[item["sku"]] = summary["asin"]
    result = []
    for message_id, (job_id, sku) in message_map.items():
        number = int(message_id)
        result.append(JobOutcome(job_id=int(job_id), accepted=number not in failed, issues=by_message.get(number, []),
                                 asin=asins.get(sku)))
    return result, feed_level
