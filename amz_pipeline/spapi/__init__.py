"""The SP-API client: endpoints, LWA, optional SigV4, rate limits, retries, errors and typed operations.

Imports nothing from `amz_pipeline.sandbox` (two independent implementations of one contract).
"""

from amz_pipeline.spapi.auth import LWACredentials, TokenCache, credentials_from_store, secret_name
from amz_pipeline.spapi.client import SPAPIClient, SyncSPAPIClient, TransportFailedError
from amz_pipeline.spapi.config import ClientConfig, ConfigError
from amz_pipeline.spapi.errors import (
    AmbiguousSubmissionError,
    InvalidGrantError,
    InvalidInputError,
    InvalidResponseError,
    LWAError,
    NotFoundError,
    ServerError,
    SPAPIError,
    ThrottledError,
    UnauthorizedError,
)
from amz_pipeline.spapi.ratelimit import DatabaseBucketStore, MemoryBucketStore, RateLimiter
from amz_pipeline.spapi.retries import RetryPolicy

__all__ = [
    "AmbiguousSubmissionError", "ClientConfig", "ConfigError", "DatabaseBucketStore", "InvalidGrantError",
    "InvalidInputError", "InvalidResponseError", "LWACredentials", "LWAError", "MemoryBucketStore", "NotFoundError",
    "RateLimiter", "RetryPolicy", "SPAPIClient", "SPAPIError", "ServerError", "SyncSPAPIClient", "ThrottledError",
    "TokenCache", "TransportFailedError", "UnauthorizedError", "credentials_from_store", "secret_name",
]
