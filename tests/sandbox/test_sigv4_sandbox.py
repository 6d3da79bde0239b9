"""`--require-sigv4` in the real sandbox app: botocore-signed SP-API calls with awkward SKUs and queries pass, the
classic client mistakes do not. (The basic on/off case over live HTTP is in test_live_server.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from botocore.credentials import Credentials

from amz_pipeline.sandbox import SandboxConfig, create_app
from tests.sandbox.test_sigv4_botocore import BotocoreSigV4
from tests.support.sandbox import US, access_token, luggage_attributes, price_patch

SELLER = "A1DEMOSELLER01"
# The sandbox accepts AWS's published example key pair (the SigV4 test suite's) unless sellers register others.
AWS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SKUS = ["plain-SKU-1", "Größe M/rot ß", "sku with spaces+plus&amp", "ü~._-", "%41 literal percent"]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SandboxConfig(public_base_url="http://sandbox.test", require_sigv4=True,
                                   feed_processing_delay_seconds=0))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test"
    ) as http:
        token = await access_token(http)
        http.headers["x-amz-access-token"] = token
        yield http


def item(sku: str) -> str:
    return f"/listings/2021-08-01/items/{SELLER}/{quote(sku, safe='')}"


@pytest.mark.parametrize("sku", SKUS)
async def test_signed_put_patch_get_with_awkward_skus(client, sku):
    auth = BotocoreSigV4(AWS)
    put = await client.put(item(sku), params={"marketplaceIds": US}, auth=auth,
                           json={"productType": "LUGGAGE", "requirements": "LISTING",
                                 "attributes": luggage_attributes()})
    assert put.status_code == 200 and put.json()["status"] == "ACCEPTED", put.text
    patch = await client.patch(item(sku), params={"marketplaceIds": US, "issueLocale": "de_DE"}, auth=auth,
                               json=price_patch(42.5))
    assert patch.status_code == 200 and patch.json()["status"] == "ACCEPTED", patch.text
    got = await client.get(item(sku), params={"marketplaceIds": US, "includedData": "summaries,attributes",
                                              "unknownParam": "a b/c"}, auth=auth)
    assert got.status_code == 200, got.text
    assert got.json()["sku"] == sku


async def test_unsigned_and_naively_signed_requests_are_refused(client):
    unsigned = await client.get(item("plain-SKU-1"), params={"marketplaceIds": US})
    assert unsigned.status_code == 403
    naive = await client.get(item("plain-SKU-1"), params={"marketplaceIds": US, "note": "a b"},
                             auth=BotocoreSigV4(AWS, naive_query=True))
    assert naive.status_code == 403
    wrong_region = await client.get(item("plain-SKU-1"), params={"marketplaceIds": US},
                                    auth=BotocoreSigV4(AWS, region="eu-west-1"))
    assert wrong_region.status_code == 403
    proper = await client.get(item("plain-SKU-1"), params={"marketplaceIds": US, "note": "a b"},
                              auth=BotocoreSigV4(AWS))
    assert proper.status_code == 404  # verified; the listing does not exist


@pytest.mark.parametrize("sku", SKUS)
async def test_the_clients_own_signer_passes_the_sandboxs_verifier(client, sku):
    """The two independent implementations agree: amz_pipeline.spapi.signing signs, the sandbox verifies."""
    from amz_pipeline.spapi.signing import SigV4Signer

    auth = SigV4Signer(AWS, "us-east-1")
    put = await client.put(item(sku), params={"marketplaceIds": US, "note": "a b+c,d"}, auth=auth,
                           json={"productType": "LUGGAGE", "requirements": "LISTING",
                                 "attributes": luggage_attributes()})
    assert put.status_code == 200 and put.json()["status"] == "ACCEPTED", put.text
    got = await client.get(item(sku), params={"marketplaceIds": US, "includedData": "summaries,attributes"},
                           auth=auth)
    assert got.status_code == 200 and got.json()["sku"] == sku, got.text
