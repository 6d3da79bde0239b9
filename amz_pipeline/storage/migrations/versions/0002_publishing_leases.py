"""publishing: feed submission leases and the hashes a job makes true

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:30:00

- feed_submissions.lease_owner / lease_expires_at: one process drives a feed submission at a time (upload, createFeed,
  poll, report); a dead owner's lease is taken over.
- publish_jobs.listing_hash / offer_hash: the ingestion hashes (product payload, offer payload) that become the
  listing's accepted hashes when this job is accepted, so delta detection compares against what Amazon took.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("publish_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listing_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("offer_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publish_jobs", schema=None) as batch_op:
        batch_op.drop_column("offer_hash")
        batch_op.drop_column("listing_hash")
    with op.batch_alter_table("feed_submissions", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
