"""Known plaintext credentials for the secret-store tests (imported by the test modules)."""

# Known plaintexts: every "no plaintext at rest / in text" test greps for these.
CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.SUPER-SECRET-client-secret-7f3a"
REFRESH_TOKEN = "Atzr|IwEBIRefreshTokenThatMustNeverLeak-9c1d"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
SECRET_STRINGS = (CLIENT_SECRET, REFRESH_TOKEN)
