"""The invariants are enforced by the database itself, on SQLite and PostgreSQL."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from amz_pipeline.hashing import idempotency_key, payload_hash
from amz_pipeline.storage import repositories as repo
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import (
    Inventory,
    JobState,
    Listing,
    PublishAttempt,
    PublishJob,
    SellerCredential,
)

US = "ATVPDKIKX0DER"


@pytest.fixture
def session(db_engine):
    with session_factory(db_engine)() as s:
        repo.ensure_seller(s, "S1")
        s.commit()
        yield s


def _job(sku: str, payload: dict, seq: int, state: JobState = JobState.PENDING) -> PublishJob:
    return PublishJob(
        seller_id="S1",
        marketplace_id=US,
        sku=sku,
        operation="put",
        channel="listings",
        payload=payload,
        payload_hash=payload_hash(payload),
        idempotency_key=idempotency_key("S1", US, sku, payload),
        seq=seq,
        state=state.value,
    )


def test_one_listing_per_seller_marketplace_sku(session):
    session.add(Listing(seller_id="S1", marketplace_id=US, sku="A"))
    session.commit()
    session.add(Listing(seller_id="S1", marketplace_id=US, sku="A"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(Listing(seller_id="S1", marketplace_id="A1PA6795UKMFR9", sku="A"))
    session.commit()


def test_one_attempt_row_per_attempt_uuid(session):
    attempt_id = str(uuid.uuid4())
    session.add(PublishAttempt(attempt_id=attempt_id, idempotency_key="k", channel="listings"))
    session.commit()
    session.add(PublishAttempt(attempt_id=attempt_id, idempotency_key="k", channel="listings"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_active_job_unique_but_a_b_a_publishes_three_times(session):
    a, b = {"price": 1}, {"price": 2}
    first = _job("SKU", a, 1)
    session.add(first)
    session.commit()
    session.add(_job("SKU", a, 2))  # the same change while the first is still pending: refused
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    first.state = JobState.SUCCEEDED.value
    session.add(_job("SKU", b, 2, JobState.SUCCEEDED))
    session.add(_job("SKU", a, 3))  # A again after B: a new change, queued
    session.commit()
    jobs = session.scalars(select(PublishJob).where(PublishJob.sku == "SKU").order_by(PublishJob.seq)).all()
    assert [j.payload for j in jobs] == [a, b, a]


def test_fba_inventory_never_carries_a_merchant_quantity(session):
    row = Listing(seller_id="S1", marketplace_id=US, sku="FBA1")
    session.add(row)
    session.flush()
    session.add(Inventory(listing_id=row.id, fulfillment_channel="AMAZON_NA", quantity=5))
    with pytest.raises(IntegrityError):
        session.commit()


def test_credentials_hold_a_reference_per_region(session):
    repo.set_credential_ref(session, "S1", "NA", "amz/dev/S1/NA")
    repo.set_credential_ref(session, "S1", "NA", "amz/dev/S1/NA-v2")
    session.commit()
    refs = session.scalars(select(SellerCredential.credential_ref)).all()
    assert refs == ["amz/dev/S1/NA-v2"]
    session.add(SellerCredential(seller_id="S1", region="XX", credential_ref="x"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_listing_status_is_constrained(session):
    session.add(Listing(seller_id="S1", marketplace_id=US, sku="B", status="published"))
    with pytest.raises(IntegrityError):
        session.commit()
