"""Usage-plan-aware token buckets, in-process or shared through the database."""

from amz_pipeline.spapi.ratelimit.database import DatabaseBucketStore
from amz_pipeline.spapi.ratelimit.limiter import BucketStore, CallScope, RateLimiter
from amz_pipeline.spapi.ratelimit.memory import MemoryBucketStore
from amz_pipeline.spapi.ratelimit.plans import Plan

__all__ = ["BucketStore", "CallScope", "DatabaseBucketStore", "MemoryBucketStore", "Plan", "RateLimiter"]
