"""The interactive per-SKU job against the live sandbox: VALIDATION_PREVIEW first, then the Listings API; the run's
metadata shows each SKU's outcome and issues, and agrees with what the sandbox's admin API reports."""

from __future__ import annotations

import httpx

from tests.support.sandbox import luggage_attributes

SELLER = "A1DEMOSELLER01"
US = "ATVPDKIKX0DER"


def _run(pipeline, instance, changes: list[dict], marketplace: str = "US"):
    job = pipeline.resolve_job_def("sku_updates_job")
    config = {"seller_id": SELLER, "marketplace": marketplace, "changes": changes}
    return job.execute_in_process(run_config={"ops": {"apply_sku_changes": {"config": config}}},
                                  instance=instance, raise_on_error=False)


def _metadata(result) -> dict:
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def _listings(sandbox_server) -> dict[str, dict]:
    body = httpx.get(f"{sandbox_server.base_url}/_sandbox/sellers/{SELLER}/listings", timeout=10).json()
    return {row["sku"]: row for row in body["listings"] if row["marketplace_id"] == US}


def _history(sandbox_server) -> list[dict]:
    return httpx.get(f"{sandbox_server.base_url}/_sandbox/sellers/{SELLER}/history", timeout=10).json()["history"]


def _previews(sandbox_server) -> dict[str, int]:
    requests = httpx.get(f"{sandbox_server.base_url}/_sandbox/requests", timeout=10).json()["requests"]
    return {r["operation"]: r["count"] for r in requests if r["seller_id"] == SELLER}


def _price(listing: dict) -> float:
    [offer] = listing["attributes"]["purchasable_offer"]
    return offer["our_price"][0]["schedule"][0]["value_with_tax"]


def test_create_update_invalid_and_delete_with_per_sku_outcomes(pipeline, instance, sandbox_server):
    bad = luggage_attributes()
    del bad["brand"]  # LUGGAGE requires a brand: VALIDATION_PREVIEW answers INVALID
    created = _run(pipeline, instance, [
        {"sku": "BAG-1", "product_type": "LUGGAGE", "attributes": luggage_attributes(price=100.0)},
        {"sku": "BAG-2", "product_type": "LUGGAGE", "attributes": luggage_attributes(price=50.0)},
        {"sku": "BAG-BAD", "product_type": "LUGGAGE", "attributes": bad},
    ])
    assert created.success
    meta = _metadata(created)
    rows = {r["sku"]: r for r in created.output_for_node("apply_sku_changes")}
    assert {s: r["outcome"] for s, r in rows.items()} == {"BAG-1": "succeeded", "BAG-2": "succeeded",
                                                         "BAG-BAD": "invalid"}
    assert any("brand" in issue for issue in rows["BAG-BAD"]["issues"])
    assert meta["outcome/succeeded"] == 2 and meta["outcome/invalid"] == 1 and meta["skus"] == 3
    table = meta["outcomes"]
    assert "| BAG-BAD | partial_update | invalid |" in table and "brand" in table
    listed = _listings(sandbox_server)
    assert sorted(listed) == ["BAG-1", "BAG-2"]  # the invalid SKU was previewed, never applied
    assert {h["sku"] for h in _history(sandbox_server)} == {"BAG-1", "BAG-2"}
    calls = _previews(sandbox_server)
    assert calls["patchListingsItem"] >= 5  # three previews and two real patches

    # The fast path: price and quantity only (a PATCH built on the stored offer), and a delete.
    updated = _run(pipeline, instance, [
        {"sku": "BAG-1", "price": 89.5, "quantity": 3},
        {"sku": "BAG-2", "delete": True},
    ])
    assert updated.success
    rows = {r["sku"]: r for r in updated.output_for_node("apply_sku_changes")}
    assert {s: (r["operation"], r["outcome"]) for s, r in rows.items()} == {
        "BAG-1": ("patch", "succeeded"), "BAG-2": ("delete", "succeeded")}
    listed = _listings(sandbox_server)
    assert sorted(listed) == ["BAG-1"]
    assert _price(listed["BAG-1"]) == 89.5
    assert listed["BAG-1"]["attributes"]["fulfillment_availability"][0]["quantity"] == 3
    assert listed["BAG-1"]["attributes"]["brand"]  # nothing else was touched
    operations = [(h["sku"], h["operation"]) for h in _history(sandbox_server)]
    assert operations[-2:] in ([("BAG-1", "PATCH"), ("BAG-2", "DELETE")], [("BAG-2", "DELETE"), ("BAG-1", "PATCH")])


def test_bad_config_is_refused_with_every_reason_and_nothing_is_sent(pipeline, instance, sandbox_server):
    result = _run(pipeline, instance, [
        {"sku": "A", "price": -1.0, "product_type": "LUGGAGE"},
        {"sku": "B", "price": 9.999, "product_type": "LUGGAGE"},
        {"sku": "C", "quantity": 2},
        {"sku": "D", "product_type": "GADGET", "price": 5.0},
        {"sku": "E"},
        {"sku": "F", "delete": True, "price": 3.0},
        {"sku": "G", "product_type": "LUGGAGE", "attributes": {"item_name": "not a list"}},
        {"sku": "A", "delete": True},
    ])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = failure.step_failure_data.user_failure_data.description
    for expected in ("A: listed more than once", "price must be greater than 0", "at most 2 decimals",
                     "C: product_type is needed", "unknown product type 'GADGET'", "E: nothing to change",
                     "F: delete cannot be combined", "'item_name' must be a list"):
        assert expected in text
    assert _previews(sandbox_server) == {}


def test_unknown_marketplace_and_too_many_skus(pipeline, instance):
    result = _run(pipeline, instance, [{"sku": "A", "delete": True}], marketplace="XX")
    assert not result.success
    many = _run(pipeline, instance, [{"sku": f"S{i}", "delete": True} for i in range(51)])
    descriptions = [e.step_failure_data.user_failure_data.description for r in (result, many)
                    for e in r.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "invalid seller or marketplace" in descriptions[0]
    assert "51 SKUs given; this job takes at most 50" in descriptions[1]
