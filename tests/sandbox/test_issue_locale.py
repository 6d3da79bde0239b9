"""issueLocale: issue messages in the caller's locale, defaulting to the first marketplace's language and falling
back to en_US (Listings Items, the feed header's issueLocale, the restrictions' reasonLocale)."""

from __future__ import annotations

import asyncio
import gzip
import json
import string

import httpx
import pytest

import schemas
from amz_pipeline.sandbox.messages import language_of, render, resolve_locale
from tests.support.sandbox import SANDBOX_BASE_URL, US, access_token, luggage_attributes

DE, FR, IT, JP = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1VC38T7YXB528"
EU_SELLER = {"seller_id": "A2EUSELLER", "client_id": "amzn1.application-oa2-client.eu",
             "client_secret": "eu-secret", "refresh_token": "Atzr|eu-refresh", "region": "EU"}
CATALOG = schemas.load_json("sandbox/issue_messages.json")
REQUIRED_LANGUAGES = {"en", "de", "fr", "es", "it", "ja"}
MISSING = {  # '<attribute>' is required but not supplied, per language
    "en": "'brand' is required but not supplied.",
    "de": "'brand' ist erforderlich, wurde aber nicht angegeben.",
    "fr": "'brand' est obligatoire mais n'a pas été fourni.",
    "es": "'brand' es obligatorio pero no se ha proporcionado.",
    "it": "'brand' è obbligatorio ma non è stato fornito.",
    "ja": "'brand'は必須ですが、指定されていません。",
}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOG["messages"]))
def test_every_message_exists_in_every_language_with_the_same_fields(key):
    texts = CATALOG["messages"][key]
    assert set(texts) >= REQUIRED_LANGUAGES
    for language, template in texts.items():
        assert fields(template) == fields(texts["en"]), (key, language)
        if language != "en":
            assert template != texts["en"], (key, language)


@pytest.mark.parametrize(("requested", "marketplaces", "language"), [
    (None, [DE, US], "de"), (None, [US, DE], "en"), (None, [JP], "ja"), (None, [FR], "fr"),
    (None, ["A1805IZSGTT6HS"], "en"),  # nl_NL: no localization, en_US
    ("fr_CA", [US], "fr"), ("es_MX", [DE], "es"), ("en_GB", [DE], "en"), ("xx_YY", [DE], "en"), ("it", [US], "it"),
])
def test_locale_resolution(requested, marketplaces, language):
    assert language_of(resolve_locale(requested, marketplaces)) == language


def test_list_fields_join_with_the_languages_or():
    assert render("required_missing", "de_DE", {"names": ["'a'", "'b'"]}) == \
        "'a' oder 'b' ist erforderlich, wurde aber nicht angegeben."


@pytest.fixture
async def eu(sandbox_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_BASE_URL) as c:
        assert (await c.post("/_sandbox/sellers", json=EU_SELLER)).status_code in (200, 201)
        await c.post("/_sandbox/config", json={"enforce_usage_plans": False})
        c.headers["x-amz-access-token"] = await access_token(c, EU_SELLER)
        yield c


def item(sku: str) -> str:
    return f"/listings/2021-08-01/items/{EU_SELLER['seller_id']}/{sku}"


def without_brand(marketplace_id: str) -> dict:
    attributes = luggage_attributes(marketplace_id, currency="EUR", language_tag="de_DE")
    del attributes["brand"]
    return {"productType": "LUGGAGE", "attributes": attributes}


def brand_issue(body: dict) -> dict:
    return next(i for i in body["issues"] if i["code"] == "90220" and i["attributeNames"] == ["brand"])


@pytest.mark.parametrize(("marketplace", "params", "language"), [
    (DE, {}, "de"), (FR, {}, "fr"), (IT, {}, "it"), (DE, {"issueLocale": "en_US"}, "en"),
    (DE, {"issueLocale": "ja_JP"}, "ja"), (DE, {"issueLocale": "es_ES"}, "es"), (DE, {"issueLocale": "fr_CA"}, "fr"),
    (FR, {"issueLocale": "pt_PT"}, "en"),
])
async def test_put_issues_follow_issue_locale(eu, marketplace, params, language):
    response = await eu.put(item("LOC-1"), params={"marketplaceIds": marketplace, **params},
                            json=without_brand(marketplace))
    assert response.status_code == 200 and response.json()["status"] == "INVALID"
    found = brand_issue(response.json())
    assert found["message"] == MISSING[language]
    assert found["categories"] == ["MISSING_ATTRIBUTE"] and found["severity"] == "ERROR"


async def test_patch_and_preview_issues_are_localized_too(eu):
    put = await eu.put(item("LOC-2"), params={"marketplaceIds": DE},
                       json={"productType": "LUGGAGE",
                             "attributes": luggage_attributes(DE, currency="EUR", language_tag="de_DE")})
    assert put.json()["status"] == "ACCEPTED"
    bad_path = {"productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/brand/0",
                                                       "value": [{"value": "x"}]}]}
    patched = await eu.patch(item("LOC-2"), params={"marketplaceIds": DE, "mode": "VALIDATION_PREVIEW"},
                             json=bad_path)
    assert patched.json()["issues"][0]["message"].startswith("Der Patch-Pfad '/attributes/brand/0' ist ungültig.")
    english = await eu.patch(item("LOC-2"), params={"marketplaceIds": DE, "issueLocale": "en_GB"}, json=bad_path)
    assert english.json()["issues"][0]["message"].startswith("The patch path '/attributes/brand/0' is not valid.")


async def test_stored_issues_render_in_each_callers_locale(eu):
    await eu.post("/_sandbox/config", json={"faults": {"listings": {"suppressed_after_accept": 1}}})
    put = await eu.put(item("LOC-3"), params={"marketplaceIds": DE},
                       json={"productType": "LUGGAGE",
                             "attributes": luggage_attributes(DE, currency="EUR", language_tag="de_DE")})
    assert put.json()["status"] == "ACCEPTED"
    messages = {}
    for locale in ("de_DE", "ja_JP", "en_US"):
        got = await eu.get(item("LOC-3"), params={"marketplaceIds": DE, "includedData": "issues",
                                                  "issueLocale": locale})
        (suppressed,) = [i for i in got.json()["issues"] if i["code"] == "18200"]
        assert suppressed["enforcements"]["actions"] == [{"action": "LISTING_SUPPRESSED"}]
        messages[locale] = suppressed["message"]
    assert messages["en_US"].startswith("The listing was accepted but is suppressed")
    assert messages["de_DE"].startswith("Das Angebot wurde angenommen")
    assert messages["ja_JP"].startswith("出品は受け付けられました")
    default = await eu.get(item("LOC-3"), params={"marketplaceIds": DE, "includedData": "issues"})
    assert default.json()["issues"][0]["message"] == messages["de_DE"]
    admin = (await eu.get(f"/_sandbox/sellers/{EU_SELLER['seller_id']}/listings")).json()["listings"][0]
    assert admin["issues"][0]["message"] == messages["en_US"]  # the admin API speaks English


async def run_feed(api, marketplace: str, document: dict) -> dict:
    content_type = "application/json"
    created = (await api.post("/feeds/2021-06-30/documents", json={"contentType": content_type})).json()
    await api.put(created["url"], content=json.dumps(document).encode(), headers={"content-type": content_type})
    feed_id = (await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [marketplace],
        "inputFeedDocumentId": created["feedDocumentId"]})).json()["feedId"]
    for _ in range(500):
        feed = (await api.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
        if feed["processingStatus"] in ("DONE", "FATAL"):
            break
        await asyncio.sleep(0.01)
    document_url = (await api.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}")).json()["url"]
    return json.loads(gzip.decompress((await api.get(document_url)).content))


def feed_document(header_extra: dict, marketplace: str) -> dict:
    invalid = without_brand(marketplace)
    return {"header": {"sellerId": EU_SELLER["seller_id"], "version": "2.0", **header_extra},
            "messages": [{"messageId": 1, "sku": "F-1", "operationType": "UPDATE", **invalid},
                         {"messageId": 1, "sku": "F-2", "operationType": "DELETE"}]}


@pytest.mark.parametrize(("marketplace", "header", "language"), [
    (DE, {}, "de"), (DE, {"issueLocale": "it_IT"}, "it"), (FR, {"issueLocale": "en_US"}, "en"),
])
async def test_feed_report_follows_the_headers_issue_locale(eu, marketplace, header, language):
    report = await run_feed(eu, marketplace, feed_document(header, marketplace))
    assert "issueLocale" not in report["header"]  # the report header has no such field
    by_sku = {i["sku"]: i for i in report["issues"]}
    assert by_sku["F-1"]["message"] == "'[brand]'" + MISSING[language][len("'brand'"):]
    duplicate = {"de": "Die Nachricht ist ungültig: messageId 1", "it": "Il messaggio non è valido: il messageId 1",
                 "en": "The message is invalid: messageId 1"}[language]
    assert by_sku["F-2"]["message"].startswith(duplicate)


async def test_fatal_feed_report_is_localized(eu):
    document = {"header": {"sellerId": "SOMEONE-ELSE", "version": "2.0", "issueLocale": "fr_FR"},
                "messages": [{"messageId": 1, "sku": "F-1", "operationType": "DELETE"}]}
    report = await run_feed(eu, DE, document)
    assert report["issues"][0]["message"].startswith("Le sellerId 'SOMEONE-ELSE' de l'en-tête du flux")
    unparseable = await run_feed(eu, DE, {"header": "not an object", "messages": []})
    assert unparseable["issues"][0]["message"].startswith("Das Feed-Dokument muss ein JSON-Objekt")


async def test_restriction_reasons_follow_reason_locale(eu):
    await eu.post("/_sandbox/config", json={"gated_asins": {"*": ["B000GATED1"]}})
    params = {"asin": "B000GATED1", "sellerId": EU_SELLER["seller_id"], "marketplaceIds": DE}
    german = (await eu.get("/listings/2021-08-01/restrictions", params=params)).json()
    spanish = (await eu.get("/listings/2021-08-01/restrictions", params={**params, "reasonLocale": "es_ES"})).json()
    assert german["restrictions"][0]["reasons"][0]["message"].startswith("Sie benötigen eine Genehmigung")
    assert spanish["restrictions"][0]["reasons"][0]["message"].startswith("Necesitas una aprobación")
