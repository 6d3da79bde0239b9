"""Item summaries as ItemSummaryByMarketplace describes them (mainImage, itemName, conditionType, fnSku for FBA) and
`editable: false` enforced at any depth of the product-type schema (product identifiers, suggested ASIN)."""

from __future__ import annotations

import jsonschema_rs

from amz_pipeline.sandbox.models import load_model, swagger_schema
from tests.support.sandbox import US, luggage_attributes

SELLER = "A1DEMOSELLER01"
IMAGE = "https://images.example.com/luggage/main.jpg"
SUMMARY = jsonschema_rs.Draft7Validator(swagger_schema(
    load_model("listingsItems"), {"$ref": "#/definitions/ItemSummaryByMarketplace"}, strict=True))


def item(sku: str) -> str:
    return f"/listings/2021-08-01/items/{SELLER}/{sku}"


def with_image(attributes: dict) -> dict:
    return {**attributes, "main_product_image_locator": [{"media_location": IMAGE, "marketplace_id": US}]}


async def put(api, sku: str, attributes: dict, **params) -> dict:
    response = await api.put(item(sku), params={"marketplaceIds": US, **params},
                             json={"productType": "LUGGAGE", "attributes": attributes})
    assert response.status_code == 200
    return response.json()


async def summary_of(api, sku: str) -> dict:
    (found,) = (await api.get(item(sku), params={"marketplaceIds": US})).json()["summaries"]
    assert SUMMARY.is_valid(found), list(SUMMARY.iter_errors(found))
    return found


async def test_merchant_fulfilled_summary_has_main_image_name_and_condition_but_no_fnsku(api):
    assert (await put(api, "SUM-1", with_image(luggage_attributes())))["status"] == "ACCEPTED"
    found = await summary_of(api, "SUM-1")
    assert found["mainImage"] == {"link": IMAGE, "height": 500, "width": 500}
    assert found["itemName"] == "Hardside Carry-On Spinner Suitcase" and found["conditionType"] == "new_new"
    assert "fnSku" not in found
    assert list(found) == ["marketplaceId", "asin", "productType", "conditionType", "status", "itemName",
                           "createdDate", "lastUpdatedDate", "mainImage"]  # the model's order
    assert (await put(api, "SUM-2", luggage_attributes()))["status"] == "ACCEPTED"
    assert "mainImage" not in await summary_of(api, "SUM-2")  # no main_product_image_locator


async def test_fba_listing_has_a_stable_fnsku_that_search_finds(api):
    attributes = luggage_attributes()
    attributes["fulfillment_availability"] = [{"fulfillment_channel_code": "AMAZON_NA"}]
    assert (await put(api, "FBA-1", attributes))["status"] == "ACCEPTED"
    first = await summary_of(api, "FBA-1")
    fnsku = first["fnSku"]
    assert len(fnsku) == 10 and fnsku.startswith("X00") and fnsku.isalnum() and fnsku != first["asin"]
    assert first["status"] == ["BUYABLE", "DISCOVERABLE"]
    patched = await api.patch(item("FBA-1"), params={"marketplaceIds": US}, json={
        "productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/item_name",
                                               "value": [{"value": "Renamed", "language_tag": "en_US",
                                                          "marketplace_id": US}]}]})
    assert patched.json()["status"] == "ACCEPTED"
    second = await summary_of(api, "FBA-1")
    assert second["fnSku"] == fnsku and second["itemName"] == "Renamed"
    await put(api, "MFN-1", luggage_attributes())
    found = (await api.get(f"/listings/2021-08-01/items/{SELLER}", params={
        "marketplaceIds": US, "identifiersType": "FNSKU", "identifiers": fnsku})).json()
    assert [i["sku"] for i in found["items"]] == ["FBA-1"]


def identifier_patch(kind: str, value: str) -> dict:
    return {"productType": "LUGGAGE", "patches": [{
        "op": "replace", "path": "/attributes/externally_assigned_product_identifier",
        "value": [{"type": kind, "value": value, "marketplace_id": US}]}]}


async def test_nested_non_editable_values_cannot_change(api):
    assert (await put(api, "ED-1", luggage_attributes()))["status"] == "ACCEPTED"
    changed = (await api.patch(item("ED-1"), params={"marketplaceIds": US},
                               json=identifier_patch("ean", "5901234123457"))).json()
    assert changed["status"] == "INVALID"
    (locked,) = [i for i in changed["issues"] if i["code"] == "99101"]
    assert locked["attributeNames"] == ["externally_assigned_product_identifier"]
    assert locked["message"] == ("'externally_assigned_product_identifier.value' cannot be changed once the "
                                 "listing exists.")
    preview = (await api.patch(item("ED-1"), params={"marketplaceIds": US, "mode": "VALIDATION_PREVIEW"},
                               json=identifier_patch("ean", "5901234123457"))).json()
    assert preview["status"] == "INVALID"
    same = await api.patch(item("ED-1"), params={"marketplaceIds": US}, json=identifier_patch("ean", "4006381333931"))
    assert same.json()["status"] == "ACCEPTED"
    # another identifier type is another instance (selectors marketplace_id + type), not a change of the EAN
    other = await api.patch(item("ED-1"), params={"marketplaceIds": US}, json=identifier_patch("upc", "036000291452"))
    assert other.json()["status"] == "ACCEPTED", other.json()


async def test_suggested_asin_is_fixed_once_the_listing_exists_but_free_on_creation(api):
    attributes = luggage_attributes()
    attributes["merchant_suggested_asin"] = [{"value": "B000000001", "marketplace_id": US}]
    assert (await put(api, "ED-2", attributes))["status"] == "ACCEPTED"
    attributes["merchant_suggested_asin"][0]["value"] = "B000000002"
    replaced = await put(api, "ED-2", attributes)
    assert replaced["status"] == "INVALID"
    assert any(i["code"] == "99101" and i["attributeNames"] == ["merchant_suggested_asin"] for i in replaced["issues"])
    assert (await put(api, "ED-3", attributes))["status"] == "ACCEPTED"  # a new listing may use any value
    assert (await summary_of(api, "ED-2"))["asin"] == "B000000001"


async def test_editable_values_and_selectors_change_freely(api):
    assert (await put(api, "ED-4", luggage_attributes()))["status"] == "ACCEPTED"
    moved = luggage_attributes(price=10, quantity=1)
    moved["item_name"][0]["value"] = "Another name"
    assert (await put(api, "ED-4", moved))["status"] == "ACCEPTED"
