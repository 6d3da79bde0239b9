"""Product Type Definitions API and the /_sandbox/ admin API."""

from __future__ import annotations

import base64
import hashlib
import json

import jsonschema_rs
import pytest

import schemas
from tests.support.sandbox import SANDBOX_BASE_URL, US, access_token, luggage_attributes

SELLER = "A1DEMOSELLER01"
ADMIN = schemas.load_json("sandbox/admin-api.schema.json")


def admin_validator(name: str):
    return jsonschema_rs.Draft201909Validator({**ADMIN, "$ref": f"#/$defs/{name}"})


@pytest.mark.parametrize("requirements", ["LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY"])
async def test_definition_links_a_served_schema_with_its_checksum(api, requirements):
    index = schemas.load_json("product_types/index.json")["LUGGAGE"]
    body = (await api.get("/definitions/2020-09-01/productTypes/LUGGAGE",
                          params={"marketplaceIds": US, "requirements": requirements})).json()
    assert body["productType"] == "LUGGAGE" and body["displayName"] == index["display_name"]
    assert body["productTypeVersion"] == {"version": index["version"], "latest": True, "releaseCandidate": False}
    assert set(body["propertyGroups"]) == set(index["property_groups"])
    link = body["schema"]["link"]
    assert link["verb"] == "GET" and link["resource"].startswith(SANDBOX_BASE_URL + "/")
    served = await api.get(link["resource"], headers={"x-amz-access-token": ""})
    assert served.status_code == 200
    assert body["schema"]["checksum"] == base64.b64encode(hashlib.md5(served.content).digest()).decode()
    assert json.loads(served.content)["required"] == index["requirements"][requirements]


async def test_search_product_types(api):
    everything = (await api.get("/definitions/2020-09-01/productTypes", params={"marketplaceIds": US})).json()
    names = {p["name"] for p in everything["productTypes"]}
    assert {"PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"} <= names and everything["productTypeVersion"]
    found = (await api.get("/definitions/2020-09-01/productTypes",
                           params={"marketplaceIds": US, "keywords": "shoes"})).json()
    assert [p["name"] for p in found["productTypes"]] == ["SHOES"]
    both = await api.get("/definitions/2020-09-01/productTypes",
                         params={"marketplaceIds": US, "keywords": "shoes", "itemName": "running shoes"})
    assert both.status_code == 400


async def test_register_seller_is_idempotent_and_checked(api):
    seller = {"seller_id": "A2NEWSELLER", "client_id": "amzn1.application-oa2-client.new",
              "client_secret": "s3cret", "refresh_token": "Atzr|new", "region": "EU"}
    first = await api.post("/_sandbox/sellers", json=seller)
    again = await api.post("/_sandbox/sellers", json=seller)
    assert (first.status_code, again.status_code) == (201, 200)
    assert admin_validator("SellerRegistered").is_valid(first.json())
    assert admin_validator("SellerRegistration").is_valid(seller)
    for broken in ({**seller, "region": "XX"}, {k: v for k, v in seller.items() if k != "client_secret"},
                   {**seller, "seller_id": "A3OTHER"},  # same refresh token, other seller
                   {**seller, "seller_id": "A4OTHER", "refresh_token": "Atzr|x", "client_secret": "different"}):
        response = await api.post("/_sandbox/sellers", json=broken)
        assert response.status_code == 400, broken
        assert response.json()["errors"][0]["details"]
    token = await access_token(api, seller)
    eu = await api.get("/listings/2021-08-01/items/A2NEWSELLER/X", params={"marketplaceIds": "A1PA6795UKMFR9"},
                       headers={"x-amz-access-token": token})
    assert eu.status_code == 404


async def test_admin_views_match_the_published_schema(api):
    await api.put(f"/listings/2021-08-01/items/{SELLER}/A-1", params={"marketplaceIds": US},
                  json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
    await api.get(f"/listings/2021-08-01/items/{SELLER}/A-1", params={"marketplaceIds": US})
    views = {"Listings": f"/_sandbox/sellers/{SELLER}/listings", "History": f"/_sandbox/sellers/{SELLER}/history",
             "Requests": "/_sandbox/requests", "Config": "/_sandbox/config", "SellerList": "/_sandbox/sellers",
             "Notifications": "/_sandbox/notifications"}
    for name, path in views.items():
        body = (await api.get(path)).json()
        errors = [e.message for e in admin_validator(name).iter_errors(body)]
        assert not errors, (name, errors)
    listing = (await api.get(views["Listings"])).json()["listings"][0]
    assert listing["status"] == ["BUYABLE", "DISCOVERABLE"] and listing["asin"]
    requests = (await api.get(views["Requests"])).json()["requests"]
    assert {"seller_id": SELLER, "operation": "getListingsItem", "status": 200, "count": 1} in requests
    assert (await api.get("/_sandbox/sellers/NOPE/listings")).status_code == 404


async def test_config_and_reset(api):
    bad = await api.post("/_sandbox/config", json={"colour": "blue"})
    assert bad.status_code == 400
    assert (await api.post("/_sandbox/config", json={"speed": 0})).status_code == 400
    assert (await api.post("/_sandbox/config", json={"token_ttl_seconds": "1"})).status_code == 400
    changed = (await api.post("/_sandbox/config", json={"speed": 3, "token_ttl_seconds": 60})).json()
    assert changed["speed"] == 3 and changed["token_ttl_seconds"] == 60
    assert admin_validator("ConfigChange").is_valid({"speed": 3, "token_ttl_seconds": 60})
    await api.put(f"/listings/2021-08-01/items/{SELLER}/R-1", params={"marketplaceIds": US},
                  json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
    reset = await api.post("/_sandbox/reset")
    assert admin_validator("Reset").is_valid(reset.json()) and SELLER in reset.json()["sellers"]
    config = (await api.get("/_sandbox/config")).json()
    assert config["speed"] == 1 and config["token_ttl_seconds"] == 3600
    assert (await api.get(f"/_sandbox/sellers/{SELLER}/listings")).json() == {"listings": []}
    assert (await api.get("/_sandbox/requests")).json() == {"requests": []}
    stale = await api.get(f"/listings/2021-08-01/items/{SELLER}/R-1", params={"marketplaceIds": US})
    assert stale.status_code == 403  # tokens were cleared


async def test_unknown_routes_answer_json(api):
    response = await api.get("/no/such/path")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "NotFound"
    assert response.headers["x-amzn-requestid"]
