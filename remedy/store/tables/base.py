"""The declarative base, ids and the UTC timestamp column every table uses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from remedy.moments import as_utc, to_stored, utcnow

__all__ = ["Base", "BigId", "Timestamp", "UtcDateTime", "new_id", "utcnow"]


def new_id() -> str:
    """Return a new random id for a public resource."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite hands back naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC."""
        return to_stored(value)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        return as_utc(value) if value is not None else None


Timestamp = UtcDateTime()


# Ledger ids are 64-bit on PostgreSQL; SQLite autoincrements only an INTEGER primary key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
