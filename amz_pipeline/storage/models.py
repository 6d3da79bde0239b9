"""SQLAlchemy 2 typed ORM models: the system of record for sellers, listings and every publish attempt.

Invariants live in constraints, not in code paths: one listing per seller×marketplace×sku, one attempt row per
attempt UUID, and at most one *non-terminal* job per idempotency key (a partial unique index), so a change
A → B → A is published three times while a retried A is not queued twice.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JSONType = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(14, 4)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: DateTime(timezone=True)}


def _enum_check(column: str, enum_cls: type[enum.StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{column}_valid")


class Region(enum.StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


class ListingStatus(enum.StrEnum):
    """draft → validated → queued → submitted → accepted | invalid | error → live | suppressed | deleted."""

    DRAFT = "draft"
    VALIDATED = "validated"
    QUEUED = "queued"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    INVALID = "invalid"
    ERROR = "error"
    LIVE = "live"
    SUPPRESSED = "suppressed"
    DELETED = "deleted"


class JobState(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    INVALID = "invalid"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    SUPERSEDED = "superseded"


NON_TERMINAL_JOB_STATES = (JobState.PENDING, JobState.IN_FLIGHT)


class Channel(enum.StrEnum):
    LISTINGS = "listings"
    FEED = "feed"


class IssueSource(enum.StrEnum):
    LISTINGS = "listings"
    FEED = "feed"
    LOCAL_VALIDATION = "local-validation"


class DeadLetterCause(enum.StrEnum):
    RETRIES_EXHAUSTED = "retries_exhausted"
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FEED_FATAL = "feed_fatal"
    FEED_CANCELLED = "feed_cancelled"
    NOT_FOUND = "not_found"
    CLIENT_ERROR = "client_error"


class Seller(Base):
    __tablename__ = "sellers"

    seller_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    credentials: Mapped[list[SellerCredential]] = relationship(
        back_populates="seller", cascade="all, delete-orphan"
    )


class SellerCredential(Base):
    """Where a seller's refresh token for one region lives — a secret-store reference, never the secret."""

    __tablename__ = "seller_credentials"
    __table_args__ = (
        UniqueConstraint("seller_id", "region", name="uq_seller_credentials_seller_region"),
        _enum_check("region", Region),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(2))
    credential_ref: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    seller: Mapped[Seller] = relationship(back_populates="credentials")


class Marketplace(Base):
    """Seeded from schemas/marketplaces.json by the initial migration (the client reads the file directly)."""

    __tablename__ = "marketplaces"
    __table_args__ = (_enum_check("region", Region),)

    marketplace_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(2))
    endpoint_host: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    default_language_tag: Mapped[str] = mapped_column(String(10))


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("seller_id", "marketplace_id", "sku", name="uq_listings_seller_marketplace_sku"),
        _enum_check("status", ListingStatus),
        Index("ix_listings_seller_status", "seller_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    marketplace_id: Mapped[str] = mapped_column(ForeignKey("marketplaces.marketplace_id"))
    sku: Mapped[str] = mapped_column(String(40))
    product_type: Mapped[str | None] = mapped_column(String(100))
    requirements: Mapped[str | None] = mapped_column(String(30))
    desired_attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    desired_payload_hash: Mapped[str | None] = mapped_column(String(64))
    offer_payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_attempted_hash: Mapped[str | None] = mapped_column(String(64))
    accepted_payload_hash: Mapped[str | None] = mapped_column(String(64))
    accepted_offer_hash: Mapped[str | None] = mapped_column(String(64))
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default=ListingStatus.DRAFT.value)
    asin: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()

    offers: Mapped[list[Offer]] = relationship(back_populates="listing", cascade="all, delete-orphan")
    inventory: Mapped[list[Inventory]] = relationship(back_populates="listing", cascade="all, delete-orphan")
    issues: Mapped[list[ListingIssue]] = relationship(back_populates="listing", cascade="all, delete-orphan")


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("listing_id", "audience", name="uq_offers_listing_audience"),
        CheckConstraint("price IS NULL OR price > 0", name="ck_offers_price_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(10), default="ALL")
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[Decimal | None] = mapped_column(Money)
    sale_price: Mapped[Decimal | None] = mapped_column(Money)
    sale_start: Mapped[datetime | None] = mapped_column()
    sale_end: Mapped[datetime | None] = mapped_column()
    business_price: Mapped[Decimal | None] = mapped_column(Money)
    minimum_seller_allowed_price: Mapped[Decimal | None] = mapped_column(Money)
    maximum_seller_allowed_price: Mapped[Decimal | None] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="offers")


class Inventory(Base):
    """DEFAULT is merchant-fulfilled; AMAZON_* channels are FBA and never carry a merchant quantity."""

    __tablename__ = "inventory"
    __table_args__ = (
        UniqueConstraint("listing_id", "fulfillment_channel", name="uq_inventory_listing_channel"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="ck_inventory_quantity_nonnegative"),
        CheckConstraint(
            "fulfillment_channel = 'DEFAULT' OR quantity IS NULL",
            name="ck_inventory_fba_has_no_merchant_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    fulfillment_channel: Mapped[str] = mapped_column(String(20), default="DEFAULT")
    quantity: Mapped[int | None] = mapped_column(Integer)
    handling_time_days: Mapped[int | None] = mapped_column(Integer)
    restock_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="inventory")


class PublishRun(Base):
    """One `publish` invocation, recorded before anything is ingested so `--resume` can finish it."""

    __tablename__ = "publish_runs"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(64))
    marketplace_id: Mapped[str | None] = mapped_column(String(20))
    file_path: Mapped[str | None] = mapped_column(Text)
    file_hash: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10), default="auto")
    full_catalog: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="started")
    trace_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class PublishJob(Base):
    """A job per change. `idempotency_key` is unique among non-terminal jobs only (see module docstring)."""

    __tablename__ = "publish_jobs"
    __table_args__ = (
        _enum_check("state", JobState),
        Index(
            "uq_publish_jobs_active_key",
            "idempotency_key",
            unique=True,
            sqlite_where=text("state IN ('pending', 'in_flight')"),
            postgresql_where=text("state IN ('pending', 'in_flight')"),
        ),
        Index("ix_publish_jobs_claim", "state", "channel", "next_attempt_at"),
        Index("ix_publish_jobs_sku", "seller_id", "marketplace_id", "sku", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("publish_runs.run_id"))
    seller_id: Mapped[str] = mapped_column(String(64))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    sku: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    product_type: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    payload_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20), default=JobState.PENDING.value)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    feed_submission_id: Mapped[int | None] = mapped_column(ForeignKey("feed_submissions.id"))
    feed_message_id: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    listing_hash: Mapped[str | None] = mapped_column(String(64))
    offer_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublishAttempt(Base):
    """Written before the call (status `started`) and after it, so a crash in between is visible on restart."""

    __tablename__ = "publish_attempts"
    __table_args__ = (_enum_check("channel", Channel), Index("ix_publish_attempts_key", "idempotency_key"))

    attempt_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("publish_jobs.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    feed_submission_id: Mapped[int | None] = mapped_column(ForeignKey("feed_submissions.id"))
    feed_id: Mapped[str | None] = mapped_column(String(64))
    submission_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
    trace_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="started")
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class FeedSubmission(Base):
    """A JSON_LISTINGS_FEED document's life. The intent row exists before createFeed is sent."""

    __tablename__ = "feed_submissions"
    __table_args__ = (
        UniqueConstraint("seller_id", "feed_id", name="uq_feed_submissions_seller_feed"),
        UniqueConstraint("seller_id", "content_hash", name="uq_feed_submissions_seller_content"),
        Index("ix_feed_submissions_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("publish_runs.run_id"))
    seller_id: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    marketplace_ids: Mapped[list[Any]] = mapped_column(JSONType)
    feed_type: Mapped[str] = mapped_column(String(50), default="JSON_LISTINGS_FEED")
    content_hash: Mapped[str] = mapped_column(String(64))
    document_path: Mapped[str | None] = mapped_column(Text)
    input_document_id: Mapped[str | None] = mapped_column(String(200))
    feed_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="built")
    processing_status: Mapped[str | None] = mapped_column(String(20))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    message_map: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result_document_id: Mapped[str | None] = mapped_column(String(200))
    report_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    intent_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    next_poll_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ListingIssue(Base):
    __tablename__ = "listing_issues"
    __table_args__ = (_enum_check("source", IssueSource), Index("ix_listing_issues_listing", "listing_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    attribute_names: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    categories: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="issues")


class DeadLetter(Base):
    """Work that will not succeed by retrying alone. Only `retries_exhausted` may be re-driven automatically."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        _enum_check("cause", DeadLetterCause),
        Index("ix_dead_letters_cause", "cause", "redriven_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("publish_jobs.id"))
    seller_id: Mapped[str] = mapped_column(String(64))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    sku: Mapped[str] = mapped_column(String(40))
    cause: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    redriven_at: Mapped[datetime | None] = mapped_column()
    redrive_count: Mapped[int] = mapped_column(Integer, default=0)


class RateLimitBucket(Base):
    """Token buckets shared by worker processes (the client's database limiter backend)."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float)
    burst: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class EncryptedSecret(Base):
    """Ciphertext only (authenticated encryption); the plaintext never touches the database."""

    __tablename__ = "encrypted_secrets"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
