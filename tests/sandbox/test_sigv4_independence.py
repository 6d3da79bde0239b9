"""The sandbox's SigV4 verifier shares no code with the client's signer (a shared bug would pass both)."""

from __future__ import annotations

import ast
from pathlib import Path

import amz_pipeline.sandbox.sigv4 as sigv4

FORBIDDEN = ("botocore", "boto3", "aiobotocore", "amz_pipeline.spapi", "requests_aws4auth", "awscrt")


def test_sigv4_imports_only_the_standard_library():
    tree = ast.parse(Path(sigv4.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [name for name in imported if name.startswith(FORBIDDEN)]
    assert all(name.split(".")[0] in {"__future__", "hashlib", "hmac", "re", "collections", "datetime", "email",
                                      "functools", "typing", "urllib"} for name in imported), imported
