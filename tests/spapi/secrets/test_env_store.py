"""Environment backend: AMZ_SELLER_ID / AMZ_REGION name the one secret, AMZ_LWA_* hold it."""

from __future__ import annotations

import pytest

from amz_pipeline.spapi.secrets import (
    EnvSecretStore,
    ReadOnlySecretStore,
    SecretNotFound,
    secret_store_from_env,
)
from tests.spapi.secrets.secret_data import CLIENT_ID, CLIENT_SECRET, CREDENTIALS, REFRESH_TOKEN

ENV = {
    "AMZ_SELLER_ID": "A1SELLER",
    "AMZ_REGION": "EU",
    "AMZ_LWA_CLIENT_ID": CLIENT_ID,
    "AMZ_LWA_CLIENT_SECRET": CLIENT_SECRET,
    "AMZ_REFRESH_TOKEN": REFRESH_TOKEN,
}


def test_reads_the_configured_seller():
    store = EnvSecretStore("stage", ENV)
    assert store.get("amz/stage/A1SELLER/EU") == CREDENTIALS
    assert store.list() == ["amz/stage/A1SELLER/EU"]
    assert store.list("amz/stage/OTHER") == []


def test_other_sellers_and_regions_are_not_found():
    store = EnvSecretStore("stage", ENV)
    for name in ("amz/stage/A1SELLER/NA", "amz/stage/B2SELLER/EU"):
        with pytest.raises(SecretNotFound, match="AMZ_SELLER_ID"):
            store.get(name)


def test_a_missing_variable_is_named():
    env = {k: v for k, v in ENV.items() if k != "AMZ_REFRESH_TOKEN"}
    store = EnvSecretStore("dev", env)
    with pytest.raises(SecretNotFound, match="AMZ_REFRESH_TOKEN unset") as info:
        store.get("amz/dev/A1SELLER/EU")
    assert CLIENT_SECRET not in str(info.value)
    assert store.list() == []


def test_region_defaults_to_na_and_the_store_is_read_only():
    env = {k: v for k, v in ENV.items() if k != "AMZ_REGION"}
    store = secret_store_from_env(env | {"AMZ_PROFILE": "prod"})
    assert isinstance(store, EnvSecretStore) and store.profile == "prod"
    assert store.get("amz/prod/A1SELLER/NA")["refresh_token"] == REFRESH_TOKEN
    with pytest.raises(ReadOnlySecretStore):
        store.put("amz/prod/A1SELLER/NA", CREDENTIALS)
