"""Queries shared across packages (SQLAlchemy 2 `select()` style). Package-specific queries (the publishing queue,
feed submissions) live beside their package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from amz_pipeline.storage.models import (
    DeadLetter,
    Listing,
    ListingIssue,
    ListingStatus,
    Marketplace,
    Seller,
    SellerCredential,
)


def ensure_seller(session: Session, seller_id: str, name: str = "") -> Seller:
    seller = session.get(Seller, seller_id)
    if seller is None:
        seller = Seller(seller_id=seller_id, name=name or seller_id)
        session.add(seller)
        session.flush()
    return seller


def set_credential_ref(session: Session, seller_id: str, region: str, credential_ref: str) -> SellerCredential:
    ensure_seller(session, seller_id)
    row = session.scalar(
        select(SellerCredential).where(SellerCredential.seller_id == seller_id, SellerCredential.region == region)
    )
    if row is None:
        row = SellerCredential(seller_id=seller_id, region=region, credential_ref=credential_ref)
        session.add(row)
    else:
        row.credential_ref = credential_ref
    session.flush()
    return row


def marketplace(session: Session, id_or_country: str) -> Marketplace | None:
    key = id_or_country.upper()
    return session.scalar(
        select(Marketplace).where((Marketplace.marketplace_id == id_or_country) | (Marketplace.country_code == key))
    )


def listings_by_keys(
    session: Session, seller_id: str, keys: Iterable[tuple[str, str]], chunk: int = 500
) -> dict[tuple[str, str], Listing]:
    """Listings for (marketplace_id, sku) pairs of one seller, fetched in bulk chunks."""
    keys = list(keys)
    found: dict[tuple[str, str], Listing] = {}
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        rows = session.scalars(
            select(Listing).where(
                Listing.seller_id == seller_id, tuple_(Listing.marketplace_id, Listing.sku).in_(part)
            )
        )
        for row in rows:
            found[(row.marketplace_id, row.sku)] = row
    return found


def listing(session: Session, seller_id: str, marketplace_id: str, sku: str) -> Listing | None:
    return session.scalar(
        select(Listing).where(
            Listing.seller_id == seller_id, Listing.marketplace_id == marketplace_id, Listing.sku == sku
        )
    )


def listings_for_seller(
    session: Session, seller_id: str, sku: str | None = None, statuses: Sequence[ListingStatus] | None = None
) -> Sequence[Listing]:
    query = select(Listing).where(Listing.seller_id == seller_id)
    if sku is not None:
        query = query.where(Listing.sku == sku)
    if statuses:
        query = query.where(Listing.status.in_([s.value for s in statuses]))
    return session.scalars(query.order_by(Listing.marketplace_id, Listing.sku)).all()


def replace_issues(session: Session, listing_row: Listing, source: str, issues: Iterable[dict]) -> None:
    """Replace a listing's issues from one source with the latest ones (each source reports its full set)."""
    listing_row.issues[:] = [i for i in listing_row.issues if i.source != source]
    for issue in issues:
        listing_row.issues.append(
            ListingIssue(
                code=str(issue.get("code", "")),
                severity=str(issue.get("severity", "ERROR")),
                message=str(issue.get("message", "")),
                attribute_names=list(issue.get("attributeNames") or []),
                categories=list(issue.get("categories") or []),
                source=source,
            )
        )


def dead_letters(session: Session, cause: str | None = None, include_redriven: bool = False) -> Sequence[DeadLetter]:
    query = select(DeadLetter)
    if cause:
        query = query.where(DeadLetter.cause == cause)
    if not include_redriven:
        query = query.where(DeadLetter.redriven_at.is_(None))
    return session.scalars(query.order_by(DeadLetter.id)).all()
