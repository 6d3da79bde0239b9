"""LWA token endpoint and SP-API authentication against the in-process sandbox."""

from __future__ import annotations

import httpx
import pytest

from tests.support.sandbox import SANDBOX_BASE_URL, US, access_token, lwa_form

ITEM = "/listings/2021-08-01/items/{seller}/SKU-1"


@pytest.fixture
async def client(sandbox_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_BASE_URL) as c:
        yield c


async def test_refresh_token_grant_form_and_json(client, demo_seller):
    form = await client.post("/auth/o2/token", data=lwa_form(demo_seller))
    as_json = await client.post("/auth/o2/token", json=lwa_form(demo_seller))
    for response in (form, as_json):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and body["refresh_token"] == demo_seller["refresh_token"]
        assert body["expires_in"] == 3600 and isinstance(body["expires_in"], int)
        assert body["access_token"].startswith("Atza|") and len(body["access_token"].encode()) <= 2048
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-amzn-requestid"]
    assert form.json()["access_token"] != as_json.json()["access_token"]


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_id": "amzn1.application-oa2-client.unknown"}, 401, "invalid_client"),
    ({"refresh_token": "Atzr|not-a-token"}, 400, "invalid_grant"),
    ({"refresh_token": ""}, 400, "invalid_request"),
])
async def test_lwa_errors_have_lwa_shape(client, demo_seller, change, status, error):
    response = await client.post("/auth/o2/token", data={**lwa_form(demo_seller), **change})
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]
    assert response.headers["content-type"].startswith("application/json")


async def test_client_credentials_grant_is_grantless_only(client, demo_seller):
    form = {"grant_type": "client_credentials", "scope": "sellingpartnerapi::notifications",
            "client_id": demo_seller["client_id"], "client_secret": demo_seller["client_secret"]}
    response = await client.post("/auth/o2/token", data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "sellingpartnerapi::notifications" and "refresh_token" not in body
    bad_scope = await client.post("/auth/o2/token", data={**form, "scope": "sellingpartnerapi::orders"})
    assert bad_scope.json()["error"] == "invalid_scope"
    denied = await client.get(ITEM.format(seller=demo_seller["seller_id"]), params={"marketplaceIds": US},
                              headers={"x-amz-access-token": body["access_token"]})
    assert denied.status_code == 403


async def test_listings_missing_token_is_403_with_amazon_text(client, demo_seller):
    response = await client.get(ITEM.format(seller=demo_seller["seller_id"]), params={"marketplaceIds": US})
    assert response.status_code == 403
    assert response.json() == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                           "details": "Access token is missing in the request header."}]}
    assert "x-amzn-ratelimit-limit" not in response.headers
    assert response.headers["x-amzn-requestid"]


async def test_feeds_missing_token_is_401(client):
    response = await client.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "Unauthorized"


async def test_expired_token_is_403(client, sandbox_app, demo_seller):
    await client.post("/_sandbox/config", json={"token_ttl_seconds": 1})
    token = await access_token(client)
    sandbox_app.state.sandbox.state.tokens[token].expires_at -= 2  # let a second pass without sleeping
    for path in (ITEM.format(seller=demo_seller["seller_id"]), "/feeds/2021-06-30/feeds/1"):
        response = await client.get(path, params={"marketplaceIds": US}, headers={"x-amz-access-token": token})
        assert response.status_code == 403
        assert response.json()["errors"][0]["details"] == "The access token you provided has expired."


async def test_token_works_only_for_its_seller(client, demo_seller):
    other = {"seller_id": "A2OTHERSELLER", "client_id": "amzn1.application-oa2-client.other",
             "client_secret": "other-secret", "refresh_token": "Atzr|other", "region": "NA"}
    assert (await client.post("/_sandbox/sellers", json=other)).status_code == 201
    token = await access_token(client, other)
    response = await client.get(ITEM.format(seller=demo_seller["seller_id"]), params={"marketplaceIds": US},
                                headers={"x-amz-access-token": token})
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "Access to requested resource is denied."


async def test_marketplace_outside_the_token_region_is_400(client, demo_seller):
    token = await access_token(client)
    response = await client.get(ITEM.format(seller=demo_seller["seller_id"]),
                                params={"marketplaceIds": "A1PA6795UKMFR9"}, headers={"x-amz-access-token": token})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "InvalidInput"
    assert response.headers["x-amzn-ratelimit-limit"] == "5.0"
