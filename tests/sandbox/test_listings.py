"""Listings Items API 2021-08-01 behaviour of the in-process sandbox."""

from __future__ import annotations

import hashlib
import json

from tests.support.sandbox import SANDBOX_BASE_URL, US, luggage_attributes, price_patch

SELLER = "A1DEMOSELLER01"
CA = "A2EUQ1WTGCTBG2"


def item(sku: str) -> str:
    return f"/listings/2021-08-01/items/{SELLER}/{sku}"


def canonical_hash(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def put(api, sku, attributes=None, marketplace=US, **params):
    body = {"productType": "LUGGAGE", "requirements": "LISTING", "attributes": attributes or luggage_attributes()}
    return await api.put(item(sku), params={"marketplaceIds": marketplace, **params}, json=body)


async def test_put_then_get_with_every_section(api):
    response = await put(api, "SKU-1")
    assert response.status_code == 200
    assert response.json()["status"] == "ACCEPTED" and response.json()["issues"] == []
    assert response.headers["x-amzn-ratelimit-limit"] == "5.0"
    got = await api.get(item("SKU-1"), params={
        "marketplaceIds": US, "includedData": "summaries,attributes,issues,offers,fulfillmentAvailability"})
    body = got.json()
    summary = body["summaries"][0]
    assert summary["status"] == ["BUYABLE", "DISCOVERABLE"] and summary["asin"].startswith("B0")
    assert summary["productType"] == "LUGGAGE" and summary["conditionType"] == "new_new"
    assert summary["createdDate"].endswith("Z") and summary["lastUpdatedDate"].endswith("Z")
    assert body["offers"] == [{"marketplaceId": US, "offerType": "B2C",
                               "price": {"currencyCode": "USD", "amount": "119.99"},
                               "audience": {"value": "ALL", "displayName": "Sell on Amazon"}}]
    assert body["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 5}]
    assert body["attributes"]["brand"][0]["value"] == "Sandbox Travel"
    default = (await api.get(item("SKU-1"), params={"marketplaceIds": US})).json()
    assert set(default) == {"sku", "summaries"}


async def test_missing_attributes_answer_200_invalid_with_issues(api):
    attributes = luggage_attributes()
    del attributes["condition_type"]
    attributes["fake_attribute"] = [{"value": 1}]
    response = await put(api, "SKU-2", attributes)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "INVALID"
    by_code = {i["code"]: i for i in body["issues"]}
    assert by_code["90220"]["message"] == "'condition_type' is required but not supplied."
    assert by_code["90220"]["categories"] == ["MISSING_ATTRIBUTE"] and by_code["90220"]["severity"] == "ERROR"
    assert by_code["90000900"]["attributeNames"] == ["fake_attribute"]
    assert (await api.get(item("SKU-2"), params={"marketplaceIds": US})).status_code == 404


async def test_conditional_requirement_and_amazon_keywords(api):
    attributes = luggage_attributes()
    attributes["batteries_required"][0]["value"] = True
    attributes["item_name"].append(dict(attributes["item_name"][0], value="Second name"))
    attributes["product_description"][0]["value"] = "é" * 1999 + "e" * 1  # 2000 chars, 3999 bytes: fine
    issues = (await put(api, "SKU-3", attributes)).json()["issues"]
    codes = {(i["code"], tuple(i["attributeNames"])) for i in issues}
    assert ("90220", ("num_batteries",)) in codes
    assert ("99023", ("item_name",)) in codes
    assert not any(i["attributeNames"] == ["product_description"] for i in issues)


async def test_validation_preview_persists_nothing(api):
    valid = await put(api, "SKU-P", mode="VALIDATION_PREVIEW", includedData="identifiers,issues")
    assert valid.json()["status"] == "VALID" and valid.json()["identifiers"][0]["marketplaceId"] == US
    assert (await api.get(item("SKU-P"), params={"marketplaceIds": US})).status_code == 404
    bad = luggage_attributes()
    del bad["brand"]
    invalid = await put(api, "SKU-P", bad, mode="VALIDATION_PREVIEW")
    assert invalid.json()["status"] == "INVALID"
    no_preview = await put(api, "SKU-P", includedData="identifiers")
    assert no_preview.status_code == 400


async def test_put_allows_one_marketplace_only(api):
    response = await put(api, "SKU-4", marketplace=f"{US},{CA}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


async def test_patch_replace_merge_and_delete_by_selector(api):
    attributes = luggage_attributes()
    attributes["fulfillment_availability"][0]["lead_time_to_ship_max_days"] = 3
    attributes["bullet_point"].append(dict(attributes["bullet_point"][0], value="Second bullet"))
    await put(api, "SKU-5", attributes)
    price = await api.patch(item("SKU-5"), params={"marketplaceIds": US}, json=price_patch(99.5))
    assert price.json()["status"] == "ACCEPTED"
    merge = {"productType": "LUGGAGE", "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}]}
    assert (await api.patch(item("SKU-5"), params={"marketplaceIds": US}, json=merge)).json()["status"] == "ACCEPTED"
    delete = {"productType": "LUGGAGE", "patches": [{"op": "delete", "path": "/attributes/color",
                                                     "value": [{"marketplace_id": US, "language_tag": "en_US"}]}]}
    deleted = await api.patch(item("SKU-5"), params={"marketplaceIds": US}, json=delete)
    assert deleted.json()["status"] == "INVALID"  # color is required for LUGGAGE
    assert deleted.json()["issues"][0]["message"] == "'color' is required but not supplied."
    body = (await api.get(item("SKU-5"), params={"marketplaceIds": US,
                                                 "includedData": "attributes,offers,summaries"})).json()
    assert body["offers"][0]["price"]["amount"] == "99.50"
    assert body["attributes"]["fulfillment_availability"] == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 0, "lead_time_to_ship_max_days": 3}]
    assert body["summaries"][0]["status"] == ["DISCOVERABLE"]  # no stock: not buyable
    assert "color" in body["attributes"]


async def test_patch_path_must_be_top_level(api):
    await put(api, "SKU-6")
    bad = {"productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/purchasable_offer/0",
                                                  "value": [{}]}]}
    response = await api.patch(item("SKU-6"), params={"marketplaceIds": US}, json=bad)
    assert response.status_code == 200 and response.json()["status"] == "INVALID"


async def test_delete_and_history_hashes(api):
    put_body = {"productType": "LUGGAGE", "attributes": luggage_attributes(), "MarketplaceIds": [US]}
    first = await api.put(item("SKU-7"), params={"marketplaceIds": US}, json=put_body)
    assert first.json()["status"] == "ACCEPTED"  # unknown body keys are ignored
    patch_body = price_patch(10)
    patched = await api.patch(item("SKU-7"), params={"marketplaceIds": US}, json=patch_body)
    removed = await api.delete(item("SKU-7"), params={"marketplaceIds": US})
    assert removed.json()["status"] == "ACCEPTED"
    assert (await api.get(item("SKU-7"), params={"marketplaceIds": US})).status_code == 404
    history = (await api.get(f"/_sandbox/sellers/{SELLER}/history")).json()["history"]
    assert [(h["operation"], h["ref"]) for h in history] == [
        ("PUT", first.json()["submissionId"]), ("PATCH", patched.json()["submissionId"]),
        ("DELETE", removed.json()["submissionId"])]
    assert history[0]["payload_hash"] == canonical_hash(put_body)
    assert history[1]["payload_hash"] == canonical_hash(patch_body["patches"])
    assert all(h["channel"] == "listings" and h["marketplace_id"] == US for h in history)


async def test_query_tolerance(api):
    await put(api, "SKU-8")
    for query in (f"marketplaceIds={US}&includedData=summaries&includedData=offers",
                  f"marketplaceIds={US}&includedData=summaries%2Coffers&unknownParam=1"):
        response = await api.get(f"{item('SKU-8')}?{query}", headers={"content-type": "application/json"})
        assert response.status_code == 200 and set(response.json()) == {"sku", "summaries", "offers"}


async def test_bad_requests(api):
    wrong_type = await api.put(item("SKU-9"), params={"marketplaceIds": US}, content=b"productType=LUGGAGE",
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert wrong_type.status_code == 415 and "x-amzn-ratelimit-limit" not in wrong_type.headers
    missing = await api.put(item("SKU-9"), params={"marketplaceIds": US}, json={"productType": "LUGGAGE"})
    assert missing.status_code == 400 and "attributes" in missing.json()["errors"][0]["details"]
    bad_enum = await api.put(item("SKU-9"), params={"marketplaceIds": US},
                             json={"productType": "LUGGAGE", "requirements": "ALL", "attributes": {}})
    assert bad_enum.status_code == 400
    bad_included = await api.get(item("SKU-9"), params={"marketplaceIds": US, "includedData": "everything"})
    assert bad_included.status_code == 400
    no_marketplace = await api.get(item("SKU-9"))
    assert no_marketplace.status_code == 400
    not_json = await api.put(item("SKU-9"), params={"marketplaceIds": US}, content=b"{",
                             headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    static = await api.get(item("BadSKU"), params={"marketplaceIds": US})
    assert static.status_code == 400
    assert static.json() == {"errors": [{"code": "BAD_REQUEST", "message": "Invalid input", "details": "Invalid input"}]}


async def test_search_filters_sorting_and_pagination(api):
    for index in range(5):
        await put(api, f"S-{index}")
    await api.patch(item("S-0"), params={"marketplaceIds": US}, json={
        "productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                               "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}]})
    search = f"/listings/2021-08-01/items/{SELLER}"
    page1 = (await api.get(search, params={"marketplaceIds": US, "pageSize": 2, "sortBy": "sku",
                                           "sortOrder": "ASC"})).json()
    assert page1["numberOfResults"] == 5 and [i["sku"] for i in page1["items"]] == ["S-0", "S-1"]
    assert "previousToken" not in page1["pagination"]
    page2 = (await api.get(search, params={"marketplaceIds": US, "pageSize": 2, "sortBy": "sku", "sortOrder": "ASC",
                                           "pageToken": page1["pagination"]["nextToken"]})).json()
    assert [i["sku"] for i in page2["items"]] == ["S-2", "S-3"] and page2["pagination"]["previousToken"]
    not_buyable = (await api.get(search, params={"marketplaceIds": US, "withoutStatus": "BUYABLE"})).json()
    assert [i["sku"] for i in not_buyable["items"]] == ["S-0"]
    by_sku = (await api.get(search, params={"marketplaceIds": US, "identifiersType": "SKU",
                                            "identifiers": "S-1,S-4"})).json()
    assert sorted(i["sku"] for i in by_sku["items"]) == ["S-1", "S-4"]
    by_ean = (await api.get(search, params={"marketplaceIds": US, "identifiersType": "EAN",
                                            "identifiers": "4006381333931"})).json()
    assert by_ean["numberOfResults"] == 5
    too_big = await api.get(search, params={"marketplaceIds": US, "pageSize": 21})
    assert too_big.status_code == 400


async def test_restrictions_for_gated_asins(api):
    await api.post("/_sandbox/config", json={"gated_asins": {"*": ["B000GATED1"]}})
    params = {"asin": "B000GATED1", "sellerId": SELLER, "marketplaceIds": US, "conditionType": "new_new"}
    gated = (await api.get("/listings/2021-08-01/restrictions", params=params)).json()
    reason = gated["restrictions"][0]["reasons"][0]
    assert gated["restrictions"][0]["conditionType"] == "new_new" and reason["reasonCode"] == "APPROVAL_REQUIRED"
    assert reason["links"][0]["resource"].startswith(SANDBOX_BASE_URL)
    free = (await api.get("/listings/2021-08-01/restrictions", params={**params, "asin": "B000FREE01"})).json()
    assert free == {"restrictions": []}
    invalid = await api.get("/listings/2021-08-01/restrictions", params={**params, "asin": "BAD_ASIN"})
    assert invalid.status_code == 400
