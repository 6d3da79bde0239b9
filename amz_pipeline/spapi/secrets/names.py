"""Secret names: `amz/<profile>/<seller>/<region>`, one secret per seller and SP-API region."""

from __future__ import annotations

import re
from dataclasses import dataclass

import schemas
from amz_pipeline.settings import PROFILES

from .errors import InvalidSecretName

ROOT = "amz"
_SELLER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def regions() -> tuple[str, ...]:
    """SP-API regions as the marketplaces data file lists them (NA, EU, FE)."""
    return tuple(schemas.load_json("marketplaces.json")["regions"])


def profile_prefix(profile: str) -> str:
    """`amz/<profile>/`: every secret a store bound to `profile` may touch starts with this."""
    if profile not in PROFILES:
        raise InvalidSecretName(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    return f"{ROOT}/{profile}/"


@dataclass(frozen=True)
class SecretName:
    profile: str
    seller_id: str
    region: str

    def __str__(self) -> str:
        return f"{ROOT}/{self.profile}/{self.seller_id}/{self.region}"


def secret_name(profile: str, seller_id: str, region: str) -> str:
    """The secret name for one seller in one region, validated (`amz/prod/A1B2C3/EU`)."""
    profile_prefix(profile)
    if not isinstance(seller_id, str) or not _SELLER_RE.match(seller_id):
        raise InvalidSecretName(
            f"invalid seller id {seller_id!r}: letters, digits, '.', '_' or '-' (1-64 characters)"
        )
    region = region.upper() if isinstance(region, str) else region
    if region not in regions():
        raise InvalidSecretName(f"unknown region {region!r}; expected one of {', '.join(regions())}")
    return str(SecretName(profile, seller_id, region))


def parse_secret_name(name: str) -> SecretName:
    """Split and validate a secret name; raises InvalidSecretName with the reason."""
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 4 or parts[0] != ROOT:
        raise InvalidSecretName(f"invalid secret name {name!r}: expected '{ROOT}/<profile>/<seller>/<region>'")
    _, profile, seller_id, region = parts
    if secret_name(profile, seller_id, region) != name:
        raise InvalidSecretName(f"invalid secret name {name!r}: region must be upper case")
    return SecretName(profile, seller_id, region)
