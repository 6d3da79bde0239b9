"""SPAPIClientResource: endpoint selection, credentials resolution order, secrets kept out of repr and metadata."""

from __future__ import annotations

import dagster as dg
import pytest

import schemas
from amz_pipeline.spapi.secrets import SecretNotFound, secret_name
from resources.spapi import AMAZON_SANDBOX, PRODUCTION, SPAPIClientResource, demo_seller

REGIONS = schemas.load_json("marketplaces.json")["regions"]
LWA = schemas.load_json("marketplaces.json")["lwa_token_url"]
SECRET = {"client_id": "amzn1.application-oa2-client.x", "client_secret": "cs-from-store-9f2",
          "refresh_token": "Atzr|rt-from-store-4c1"}
EXPLICIT = {"client_id": "amzn1.application-oa2-client.y", "client_secret": "cs-explicit-77a",
            "refresh_token": "Atzr|rt-explicit-0d3"}


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_production_and_amazon_sandbox_use_the_regions_endpoints(region):
    assert SPAPIClientResource(endpoint=PRODUCTION).base_url(region) == REGIONS[region]["endpoint"]
    assert SPAPIClientResource(endpoint=AMAZON_SANDBOX).base_url(region) == REGIONS[region]["sandbox_endpoint"]
    assert SPAPIClientResource(endpoint=PRODUCTION).lwa_url(region) == LWA
    assert SPAPIClientResource(endpoint=AMAZON_SANDBOX).lwa_url(region) == LWA


def test_local_sandbox_per_region_with_a_default():
    spapi = SPAPIClientResource(sandbox_url="http://127.0.0.1:9000/",
                                sandbox_urls={"EU": "http://127.0.0.1:9001"})
    assert spapi.base_url("NA") == "http://127.0.0.1:9000" and spapi.base_url("FE") == "http://127.0.0.1:9000"
    assert spapi.base_url("EU") == "http://127.0.0.1:9001"
    assert spapi.lwa_url("EU") == "http://127.0.0.1:9001/auth/o2/token"
    assert spapi.lwa_url("NA") == "http://127.0.0.1:9000/auth/o2/token"


def test_any_url_is_a_gateway_and_an_explicit_lwa_endpoint_wins():
    spapi = SPAPIClientResource(endpoint="https://gateway.example:8443/", lwa_endpoint="https://lwa.example/token")
    assert spapi.base_url("EU") == "https://gateway.example:8443"
    assert spapi.lwa_url("EU") == "https://lwa.example/token"
    with pytest.raises(ValueError, match="not an http"):
        SPAPIClientResource(endpoint="prod").base_url("NA")


def test_explicit_credentials_win_over_the_store(db_secrets):
    db_secrets.store().put(secret_name("dev", "S1", "EU"), SECRET)
    spapi = SPAPIClientResource(**EXPLICIT)
    assert dict(spapi.credentials("S1", "EU", db_secrets)) == EXPLICIT


def test_store_is_read_per_seller_and_region(db_secrets):
    db_secrets.store().put(secret_name("dev", "S1", "EU"), SECRET)
    spapi = SPAPIClientResource()
    assert dict(spapi.credentials("S1", "EU", db_secrets)) == SECRET
    with pytest.raises(SecretNotFound):
        spapi.credentials("S1", "NA", db_secrets)  # one refresh token per region: EU's does not serve NA


def test_store_beats_the_demo_fallback_which_serves_only_its_home_region_on_our_sandbox(db_secrets):
    demo = demo_seller()
    published = {k: demo[k] for k in ("client_id", "client_secret", "refresh_token")}
    local = SPAPIClientResource()
    assert dict(local.credentials(demo["seller_id"], demo["region"], db_secrets)) == published
    other = next(r for r in REGIONS if r != demo["region"])
    with pytest.raises(SecretNotFound):
        local.credentials(demo["seller_id"], other, db_secrets)
    with pytest.raises(SecretNotFound):
        SPAPIClientResource(endpoint=PRODUCTION).credentials(demo["seller_id"], demo["region"], db_secrets)
    db_secrets.store().put(secret_name("dev", demo["seller_id"], demo["region"]), SECRET)
    assert dict(local.credentials(demo["seller_id"], demo["region"], db_secrets)) == SECRET


def test_env_single_seller_set_up_reads_amz_seller_and_region(data_dir, monkeypatch):
    from resources.secrets import SecretStoreResource

    for var, value in {"AMZ_SELLER_ID": "S9", "AMZ_REGION": "FE", "AMZ_LWA_CLIENT_ID": SECRET["client_id"],
                       "AMZ_LWA_CLIENT_SECRET": SECRET["client_secret"],
                       "AMZ_REFRESH_TOKEN": SECRET["refresh_token"]}.items():
        monkeypatch.setenv(var, value)
    store = SecretStoreResource()
    assert dict(SPAPIClientResource(endpoint=PRODUCTION).credentials("S9", "FE", store)) == SECRET
    with pytest.raises(SecretNotFound):
        SPAPIClientResource(endpoint=PRODUCTION).credentials("S9", "NA", store)


def test_secrets_never_in_repr(db_secrets):
    spapi = SPAPIClientResource(**EXPLICIT)
    credentials = spapi.credentials("S1", "NA", db_secrets)
    db_secrets.store().put(secret_name("dev", "S2", "NA"), SECRET)
    stored = SPAPIClientResource().credentials("S2", "NA", db_secrets)
    text = " ".join([repr(spapi), str(spapi), repr(credentials), str(credentials), repr(stored), f"{stored}"])
    for secret in (EXPLICIT["client_secret"], EXPLICIT["refresh_token"], SECRET["client_secret"],
                   SECRET["refresh_token"]):
        assert secret not in text


def test_definitions_pass_env_credentials_as_env_vars_not_values(data_dir, monkeypatch):
    from assets.resources_config import spapi_resource

    for field, var in {"client_id": "AMZ_LWA_CLIENT_ID", "client_secret": "AMZ_LWA_CLIENT_SECRET",
                       "refresh_token": "AMZ_REFRESH_TOKEN"}.items():
        monkeypatch.setenv(var, EXPLICIT[field])
    monkeypatch.setenv("AMZ_SANDBOX_URL_EU", "http://127.0.0.1:9101")
    resource = spapi_resource()
    assert resource.sandbox_urls == {"EU": "http://127.0.0.1:9101"}
    # The definitions (what the UI shows as resource config) hold the variables' names; Dagster reads the values
    # only when a run initializes the resource.
    assert isinstance(resource.client_secret, dg.EnvVar) and resource.client_secret == "AMZ_LWA_CLIENT_SECRET"
    assert isinstance(resource.refresh_token, dg.EnvVar) and resource.refresh_token == "AMZ_REFRESH_TOKEN"


def test_secrets_never_reach_run_metadata_or_logs(pipeline_resources, instance, sandbox_server):
    """A run of the interactive job with explicit credentials: no secret in its event log."""
    from assets.interactive import sku_updates_job

    demo = demo_seller()
    resources = {**pipeline_resources,
                 "spapi": SPAPIClientResource(sandbox_url=sandbox_server.base_url,
                                              **{k: demo[k] for k in ("client_id", "client_secret",
                                                                      "refresh_token")})}
    job = dg.Definitions(jobs=[sku_updates_job], resources=resources).resolve_job_def("sku_updates_job")
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config={"ops": {
        "apply_sku_changes": {"config": {"seller_id": demo["seller_id"], "marketplace": "US", "changes": [
            {"sku": "NEVER-THERE", "price": 5.0, "product_type": "LUGGAGE"}]}}}})
    assert result.success
    events = "\n".join(str(record) for record in instance.all_logs(result.run_id))
    assert "NEVER-THERE" in events  # the log is really being scanned
    for secret in (demo["client_secret"], demo["refresh_token"]):
        assert secret not in events


def test_missing_credentials_say_where_to_put_them(db_secrets):
    from resources.spapi import MissingCredentials

    with pytest.raises(MissingCredentials, match=r"seller S7 in region FE .*secrets put --seller S7 --region FE"):
        SPAPIClientResource(endpoint=PRODUCTION).require_credentials("S7", "FE", db_secrets)
    db_secrets.store().put(secret_name("dev", "S7", "FE"), SECRET)
    SPAPIClientResource(endpoint=PRODUCTION).require_credentials("S7", "FE", db_secrets)
