"""The sandbox over real loopback HTTP: SandboxServer, URLs from the public base URL, dropped connections,
SigV4 enforcement, the SQLite state file and the CLI command."""

from __future__ import annotations

import datetime

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from amz_pipeline.sandbox import SandboxConfig
from amz_pipeline.sandbox.cli import command
from amz_pipeline.sandbox.server import SandboxServer
from tests.support.sandbox import US, luggage_attributes, sync_access_token

SELLER = "A1DEMOSELLER01"
ITEM = f"/listings/2021-08-01/items/{SELLER}/L-1"


def test_live_round_trip_and_public_urls(sandbox_server, demo_seller):
    with httpx.Client(base_url=sandbox_server.base_url, timeout=10) as client:
        token = sync_access_token(client, demo_seller)
        put = client.put(ITEM, params={"marketplaceIds": US}, headers={"x-amz-access-token": token},
                         json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
        assert put.status_code == 200 and put.json()["status"] == "ACCEPTED"
        document = client.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"},
                               headers={"x-amz-access-token": token, "host": "wrong.example.com"})
        assert document.json()["url"].startswith(sandbox_server.base_url + "/_sandbox/documents/")
        assert sandbox_server.lwa_token_url == sandbox_server.base_url + "/auth/o2/token"


def test_dropped_connection_fault(sandbox_server, demo_seller):
    with httpx.Client(base_url=sandbox_server.base_url, timeout=10) as client:
        client.post("/_sandbox/config", json={"faults": {"requests": {"getListingsItem": {"drop_connection": 1}}}})
        token = sync_access_token(client, demo_seller)
        with pytest.raises(httpx.TransportError):
            client.get(ITEM, params={"marketplaceIds": US}, headers={"x-amz-access-token": token})
        assert client.get("/_sandbox/health").json() == {"status": "ok"}


def _signed_headers(url: str, token: str, key: str, secret: str) -> dict[str, str]:
    request = AWSRequest(method="GET", url=url, headers={"x-amz-access-token": token})
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_require_sigv4():
    config = SandboxConfig(require_sigv4=True, feed_processing_delay_seconds=0)
    with SandboxServer(config) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        token = sync_access_token(client)
        url = f"{server.base_url}{ITEM}?marketplaceIds={US}"
        unsigned = client.get(url, headers={"x-amz-access-token": token})
        assert unsigned.status_code == 403 and unsigned.json()["errors"][0]["message"]
        signed = client.get(url, headers=_signed_headers(url, token, "AKIDEXAMPLE",
                                                         "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
        assert signed.status_code == 404  # authenticated and verified: the listing just does not exist
        wrong = client.get(url, headers=_signed_headers(url, token, "AKIDEXAMPLE", "not-the-secret"))
        assert wrong.status_code == 403


def test_state_file_survives_a_restart(tmp_path):
    config = SandboxConfig(state_path=str(tmp_path / "sandbox.db"), feed_processing_delay_seconds=0)
    with SandboxServer(config) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        token = sync_access_token(client)
        client.put(ITEM, params={"marketplaceIds": US}, headers={"x-amz-access-token": token},
                   json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
        before = client.get(f"/_sandbox/sellers/{SELLER}/listings").json()
    with SandboxServer(config) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        after = client.get(f"/_sandbox/sellers/{SELLER}/listings").json()
        assert after == before and len(after["listings"]) == 1
        got = client.get(ITEM, params={"marketplaceIds": US}, headers={"x-amz-access-token": token})
        assert got.status_code == 200  # tokens survive too (within their lifetime)
        created = datetime.datetime.fromisoformat(got.json()["summaries"][0]["createdDate"].replace("Z", "+00:00"))
        assert created.tzinfo is not None


def test_cli_rejects_bad_faults_with_a_clear_message():
    result = CliRunner().invoke(command, ["--faults", '{"requests": {"*": {"http_500": 3}}}'])
    assert result.exit_code == 2 and "faults" in result.output and "Traceback" not in result.output
    assert "--speed" in CliRunner().invoke(command, ["--help"]).output
