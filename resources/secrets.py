"""Secret-store resource: LWA credentials per seller and region, from env, the encrypted table or AWS."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from amz_pipeline.spapi.secrets import SecretStore, SecretValue, secret_name, secret_store_from_env


class SecretStoreResource(dg.ConfigurableResource):
    backend: str = Field(default="", description="env | db | aws; empty → AMZ_SECRETS_BACKEND (default env)")
    profile: str = Field(default="", description="the store only reads amz/<profile>/...; empty → AMZ_PROFILE")

    def store(self) -> SecretStore:
        return secret_store_from_env(backend=self.backend or None, profile=self.profile or None)

    def credentials(self, seller_id: str, region: str) -> SecretValue:
        """`{"client_id", "client_secret", "refresh_token"}` for the seller in that region (SecretNotFound if absent)."""
        store = self.store()
        return store.get(secret_name(store.profile, seller_id, region))
