"""Secret names, profile scoping, and values that never show in text."""

from __future__ import annotations

import pytest

from amz_pipeline.spapi.secrets import (
    EnvSecretStore,
    InvalidSecretName,
    InvalidSecretValue,
    SecretAccessDenied,
    SecretValue,
    parse_secret_name,
    secret_name,
)
from tests.spapi.secrets.secret_data import CREDENTIALS, SECRET_STRINGS


def test_secret_name_builds_and_parses():
    assert secret_name("prod", "A1B2C3D4E5", "eu") == "amz/prod/A1B2C3D4E5/EU"
    parsed = parse_secret_name("amz/stage/A1B2C3D4E5/FE")
    assert (parsed.profile, parsed.seller_id, parsed.region) == ("stage", "A1B2C3D4E5", "FE")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("qa", "A1", "NA"), "unknown profile"),
        (("prod", "A1", "SA"), "unknown region"),
        (("prod", "A1/../B", "NA"), "invalid seller id"),
        (("prod", "", "NA"), "invalid seller id"),
    ],
)
def test_secret_name_rejects_bad_parts_with_a_reason(args, reason):
    with pytest.raises(InvalidSecretName, match=reason):
        secret_name(*args)


@pytest.mark.parametrize("name", ["amz/prod/A1", "aws/prod/A1/NA", "amz/prod/A1/na", "amz/prod/A1/NA/x"])
def test_parse_rejects_malformed_names(name):
    with pytest.raises(InvalidSecretName):
        parse_secret_name(name)


@pytest.mark.parametrize(
    ("profile", "name"),
    [
        ("stage", "amz/prod/A1SELLER/NA"),
        ("prod", "amz/stage/A1SELLER/NA"),
        ("prod", "amz/dev/A1SELLER/NA"),
        ("prod", "amz/prod-shadow/A1SELLER/NA"),
        ("prod", "other/prod/A1SELLER/NA"),
        ("dev", "amz/prod/A1SELLER/NA"),
    ],
)
def test_a_store_refuses_names_outside_its_profile(profile, name):
    env = {"AMZ_SELLER_ID": "A1SELLER", "AMZ_REGION": "NA"} | {
        "AMZ_LWA_CLIENT_ID": "x", "AMZ_LWA_CLIENT_SECRET": "y", "AMZ_REFRESH_TOKEN": "z"
    }
    store = EnvSecretStore(profile, env)
    with pytest.raises(SecretAccessDenied, match="may not access"):
        store.get(name)
    with pytest.raises(SecretAccessDenied):
        store.put(name, CREDENTIALS)


def test_list_refuses_a_prefix_outside_the_profile():
    store = EnvSecretStore("prod", {})
    with pytest.raises(SecretAccessDenied):
        store.list("amz/")
    with pytest.raises(SecretAccessDenied):
        store.list("amz/stage/")
    assert store.list() == []


def test_secret_values_hide_their_contents():
    value = SecretValue(CREDENTIALS)
    assert value == CREDENTIALS and isinstance(value, dict)
    for text in (repr(value), str(value), f"{value}", repr([value]), str({"v": value})):
        for secret in SECRET_STRINGS:
            assert secret not in text
    assert "client_secret=***" in repr(value)


def test_invalid_values_are_reported_by_field_name_only():
    partial = {"client_id": "id", "client_secret": CREDENTIALS["client_secret"]}
    store = EnvSecretStore("dev", {})
    # A write to the env store is refused, but validation comes first and names what is missing.
    with pytest.raises(InvalidSecretValue, match="refresh_token") as info:
        store.put("amz/dev/A1/NA", partial)
    assert CREDENTIALS["client_secret"] not in str(info.value)
