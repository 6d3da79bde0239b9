"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 07:51:10.022831
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import schemas

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "encrypted_secrets",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "marketplaces",
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("endpoint_host", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("default_language_tag", sa.String(length=10), nullable=False),
        sa.CheckConstraint("region IN ('NA', 'EU', 'FE')", name="ck_region_valid"),
        sa.PrimaryKeyConstraint("marketplace_id"),
        sa.UniqueConstraint("country_code"),
    )
    # Seeded from the one marketplaces file (the client reads the same file directly).
    op.bulk_insert(
        sa.table(
            "marketplaces",
            *(
                sa.column(c)
                for c in (
                    "marketplace_id",
                    "country_code",
                    "name",
                    "region",
                    "endpoint_host",
                    "currency",
                    "default_language_tag",
                )
            ),
        ),
        [
            {
                "marketplace_id": m["id"],
                "country_code": m["country_code"],
                "name": m["name"],
                "region": m["region"],
                "endpoint_host": m["endpoint_host"],
                "currency": m["currency"],
                "default_language_tag": m["default_language_tag"],
            }
            for m in schemas.load_json("marketplaces.json")["marketplaces"]
        ],
    )
    op.create_table(
        "publish_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("file_hash", sa.String(length=64), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("full_catalog", sa.Boolean(), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("burst", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sellers",
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seller_id"),
    )
    op.create_table(
        "feed_submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column(
            "marketplace_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("feed_type", sa.String(length=50), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("document_path", sa.Text(), nullable=True),
        sa.Column("input_document_id", sa.String(length=200), nullable=True),
        sa.Column("feed_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("processing_status", sa.String(length=20), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column(
            "message_map",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("result_document_id", sa.String(length=200), nullable=True),
        sa.Column(
            "report_summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("intent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["publish_runs.run_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "content_hash", name="uq_feed_submissions_seller_content"),
        sa.UniqueConstraint("seller_id", "feed_id", name="uq_feed_submissions_seller_feed"),
    )
    with op.batch_alter_table("feed_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_feed_submissions_status", ["status"], unique=False)

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("product_type", sa.String(length=100), nullable=True),
        sa.Column("requirements", sa.String(length=30), nullable=True),
        sa.Column(
            "desired_attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("desired_payload_hash", sa.String(length=64), nullable=True),
        sa.Column("offer_payload_hash", sa.String(length=64), nullable=True),
        sa.Column("last_attempted_hash", sa.String(length=64), nullable=True),
        sa.Column("accepted_payload_hash", sa.String(length=64), nullable=True),
        sa.Column("accepted_offer_hash", sa.String(length=64), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("asin", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'validated', 'queued', 'submitted', 'accepted', 'invalid', 'error', 'live', 'suppressed', 'deleted')",
            name="ck_status_valid",
        ),
        sa.ForeignKeyConstraint(
            ["marketplace_id"],
            ["marketplaces.marketplace_id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.seller_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "marketplace_id", "sku", name="uq_listings_seller_marketplace_sku"),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_seller_status", ["seller_id", "status"], unique=False)

    op.create_table(
        "seller_credentials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("credential_ref", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("region IN ('NA', 'EU', 'FE')", name="ck_region_valid"),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.seller_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "region", name="uq_seller_credentials_seller_region"),
    )
    op.create_table(
        "inventory",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_channel", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("handling_time_days", sa.Integer(), nullable=True),
        sa.Column("restock_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fulfillment_channel = 'DEFAULT' OR quantity IS NULL",
            name="ck_inventory_fba_has_no_merchant_quantity",
        ),
        sa.CheckConstraint("quantity IS NULL OR quantity >= 0", name="ck_inventory_quantity_nonnegative"),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("listing_id", "fulfillment_channel", name="uq_inventory_listing_channel"),
    )
    op.create_table(
        "listing_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "attribute_names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('listings', 'feed', 'local-validation')", name="ck_source_valid"),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("listing_issues", schema=None) as batch_op:
        batch_op.create_index("ix_listing_issues_listing", ["listing_id"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("sale_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("sale_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sale_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("business_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("minimum_seller_allowed_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("maximum_seller_allowed_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price IS NULL OR price > 0", name="ck_offers_price_positive"),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("listing_id", "audience", name="uq_offers_listing_audience"),
    )
    op.create_table(
        "publish_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("product_type", sa.String(length=100), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feed_submission_id", sa.Integer(), nullable=True),
        sa.Column("feed_message_id", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'in_flight', 'succeeded', 'invalid', 'failed', 'dead_lettered', 'superseded')",
            name="ck_state_valid",
        ),
        sa.ForeignKeyConstraint(
            ["feed_submission_id"],
            ["feed_submissions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["publish_runs.run_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("publish_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_publish_jobs_claim", ["state", "channel", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_publish_jobs_sku", ["seller_id", "marketplace_id", "sku", "seq"], unique=False
        )
        batch_op.create_index(
            "uq_publish_jobs_active_key",
            ["idempotency_key"],
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'in_flight')"),
            postgresql_where=sa.text("state IN ('pending', 'in_flight')"),
        )

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redrive_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "cause IN ('retries_exhausted', 'invalid', 'unauthorized', 'feed_fatal', 'feed_cancelled', 'not_found', 'client_error')",
            name="ck_cause_valid",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["publish_jobs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letters_cause", ["cause", "redriven_at"], unique=False)

    op.create_table(
        "publish_attempts",
        sa.Column("attempt_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("feed_submission_id", sa.Integer(), nullable=True),
        sa.Column("feed_id", sa.String(length=64), nullable=True),
        sa.Column("submission_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('listings', 'feed')", name="ck_channel_valid"),
        sa.ForeignKeyConstraint(
            ["feed_submission_id"],
            ["feed_submissions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["publish_jobs.id"],
        ),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_publish_attempts_key", ["idempotency_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_publish_attempts_key")

    op.drop_table("publish_attempts")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letters_cause")

    op.drop_table("dead_letters")
    with op.batch_alter_table("publish_jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_publish_jobs_active_key",
            sqlite_where=sa.text("state IN ('pending', 'in_flight')"),
            postgresql_where=sa.text("state IN ('pending', 'in_flight')"),
        )
        batch_op.drop_index("ix_publish_jobs_sku")
        batch_op.drop_index("ix_publish_jobs_claim")

    op.drop_table("publish_jobs")
    op.drop_table("offers")
    with op.batch_alter_table("listing_issues", schema=None) as batch_op:
        batch_op.drop_index("ix_listing_issues_listing")

    op.drop_table("listing_issues")
    op.drop_table("inventory")
    op.drop_table("seller_credentials")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_seller_status")

    op.drop_table("listings")
    with op.batch_alter_table("feed_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_submissions_status")

    op.drop_table("feed_submissions")
    op.drop_table("sellers")
    op.drop_table("rate_limit_buckets")
    op.drop_table("publish_runs")
    op.drop_table("marketplaces")
    op.drop_table("encrypted_secrets")
    op.drop_table("alerts")
