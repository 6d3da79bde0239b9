"""Endpoints, marketplaces and environment configuration read from schemas/marketplaces.json."""

from __future__ import annotations

import pytest

import schemas
from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.config import ClientConfig, ConfigError

ENV = {
    "AMZ_SELLER_ID": "A1SELLER",
    "AMZ_REGION": "eu",
    "AMZ_LWA_CLIENT_ID": "amzn1.application-oa2-client.x",
    "AMZ_LWA_CLIENT_SECRET": "cfg-client-secret-value",
    "AMZ_REFRESH_TOKEN": "Atzr|cfg-refresh-token-value",
}


def test_every_region_and_marketplace_comes_from_the_data_file():
    data = schemas.load_json("marketplaces.json")
    for name, values in data["regions"].items():
        ep = endpoints.endpoint(name)
        assert ep.base_url == values["endpoint"] and ep.aws_region == values["aws_region"]
        assert endpoints.endpoint(name, sandbox=True).base_url == values["sandbox_endpoint"]
    for entry in data["marketplaces"]:
        by_id = endpoints.marketplace(entry["id"])
        assert by_id is endpoints.marketplace(entry["country_code"].lower())
        assert by_id.region == entry["region"] and by_id.currency == entry["currency"]


def test_uk_and_gb_both_name_the_uk_marketplace():
    assert endpoints.marketplace("GB").id == endpoints.marketplace("UK").id == "A1F83G8C2ARO7P"


def test_marketplace_ids_normalizes_and_checks_region():
    assert endpoints.marketplace_ids(["US", "CA"], region_name="NA") == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    with pytest.raises(endpoints.UnknownMarketplaceError, match="is in region EU, not NA"):
        endpoints.marketplace_ids("DE", region_name="NA")
    with pytest.raises(endpoints.UnknownMarketplaceError, match="unknown marketplace 'XX'"):
        endpoints.marketplace("XX")


def test_custom_base_url_keeps_region_for_signing():
    ep = endpoints.endpoint("FE", base_url="http://127.0.0.1:8787/")
    assert (ep.base_url, ep.aws_region, ep.host) == ("http://127.0.0.1:8787", "us-west-2", "127.0.0.1:8787")
    with pytest.raises(ValueError, match="not an http"):
        endpoints.endpoint("NA", base_url="127.0.0.1:8787")
    with pytest.raises(endpoints.UnknownRegionError, match="expected one of EU, FE, NA"):
        endpoints.region("US")


def test_config_from_env_defaults_and_hides_secrets():
    cfg = ClientConfig.from_env(ENV)
    assert cfg.region == "EU"
    assert cfg.endpoint.base_url == schemas.load_json("marketplaces.json")["regions"]["EU"]["endpoint"]
    assert cfg.lwa_token_url == schemas.load_json("marketplaces.json")["lwa_token_url"]
    for text in (repr(cfg), str(cfg), repr(cfg.credentials)):
        assert "cfg-client-secret-value" not in text and "cfg-refresh-token-value" not in text
    assert cfg.credentials.client_secret.get_secret_value() == "cfg-client-secret-value"


def test_config_from_env_overrides_endpoints():
    cfg = ClientConfig.from_env(ENV | {"AMZ_SPAPI_ENDPOINT": "http://127.0.0.1:9999",
                                      "AMZ_LWA_ENDPOINT": "http://127.0.0.1:9999/auth/o2/token"})
    assert cfg.endpoint.base_url == "http://127.0.0.1:9999" and cfg.endpoint.aws_region == "eu-west-1"
    assert cfg.lwa_token_url == "http://127.0.0.1:9999/auth/o2/token"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AMZ_REFRESH_TOKEN": ""}, "missing environment variable.*AMZ_REFRESH_TOKEN"),
        ({"AMZ_REGION": "APAC"}, "AMZ_REGION: unknown SP-API region 'APAC'"),
        ({"AMZ_SPAPI_ENDPOINT": "sandbox:8787"}, "AMZ_SPAPI_ENDPOINT"),
        ({"AMZ_LWA_ENDPOINT": "api.amazon.com/auth/o2/token"}, "AMZ_LWA_ENDPOINT must be a full"),
        ({"AMZ_SPAPI_SIGV4": "maybe"}, "AMZ_SPAPI_SIGV4 must be true or false"),
    ],
)
def test_config_errors_name_the_variable(change, message):
    with pytest.raises(ConfigError, match=message):
        ClientConfig.from_env(ENV | change)
