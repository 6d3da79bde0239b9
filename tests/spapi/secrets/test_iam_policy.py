"""docs/iam-policy.json grants exactly the profile's prefix, in the terms the code uses (names, encryption context)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from amz_pipeline.settings import PROJECT_ROOT
from amz_pipeline.spapi.secrets import KmsDataKey, secret_name

ACCOUNT = "123456789012"


def policy_for(profile: str) -> dict:
    text = (PROJECT_ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8")
    return json.loads(text.replace("<profile>", profile).replace("<account-id>", ACCOUNT).replace("<kms-key-id>", "k1"))


def arn(name: str) -> str:  # Secrets Manager appends "-" and six random characters to the name
    return f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{name}-AbC123"


def statements(policy: dict, action: str) -> list[dict]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Action"] == action]


def test_the_policy_is_minimal():
    actions = {s["Action"] for s in policy_for("prod")["Statement"]}
    assert actions == {"secretsmanager:GetSecretValue", "kms:Decrypt"}
    assert all(s["Resource"] != "*" for s in policy_for("prod")["Statement"])


@pytest.mark.parametrize(("profile", "other"), [("prod", "stage"), ("stage", "prod"), ("dev", "prod")])
def test_get_secret_value_only_on_the_profile_prefix(profile, other):
    (statement,) = statements(policy_for(profile), "secretsmanager:GetSecretValue")
    assert fnmatchcase(arn(secret_name(profile, "A1SELLER", "EU")), statement["Resource"])
    assert not fnmatchcase(arn(secret_name(other, "A1SELLER", "EU")), statement["Resource"])
    assert not fnmatchcase(arn(f"amz/{profile}-shadow/A1SELLER/EU"), statement["Resource"])


@pytest.mark.parametrize(("profile", "other"), [("prod", "stage"), ("stage", "prod")])
def test_kms_decrypt_condition_matches_the_context_the_code_sends(profile, other):
    envelope = next(
        s for s in statements(policy_for(profile), "kms:Decrypt")
        if "kms:EncryptionContext:secret_name" in s["Condition"]["StringLike"]
    )

    def allowed(context: dict[str, str]) -> bool:
        cond = envelope["Condition"]
        return all(context.get(k.split(":", 2)[2]) == v for k, v in cond["StringEquals"].items()) and all(
            fnmatchcase(context.get(k.split(":", 2)[2], ""), v) for k, v in cond["StringLike"].items()
        )

    assert allowed(KmsDataKey.context(secret_name(profile, "A1SELLER", "NA")))
    assert not allowed(KmsDataKey.context(secret_name(other, "A1SELLER", "NA")))
