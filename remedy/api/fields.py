"""Marshmallow fields for what enters over HTTP: money as decimal strings (never floats),
currency codes, date-times inside their range, strict booleans."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from catalog.validation import StrictBoolean, UtcDateTime
from remedy.moments import OUT_OF_RANGE, MomentError, to_utc
from remedy.money import (
    MoneyError,
    check_amount,
    from_minor,
    is_currency,
    parse_amount,
    parse_decimal,
)

__all__ = [
    "Amount",
    "CurrencyCode",
    "MinorAmount",
    "Moment",
    "StrictBoolean",
    "UtcDateTime",
    "UtcInstant",
    "check_amounts",
    "currency_field",
    "plain_decimal",
]


class Amount(fields.Field):
    """A money amount as a decimal string (an integer is accepted; a float never), read by
    remedy.money's one parser. Its currency is usually a sibling field: `check_amounts` then
    checks the minor digits and the currency's ceiling."""

    def __init__(self, *, signed: bool = False, **kwargs: Any) -> None:
        """Document the field as a string in OpenAPI; `signed` allows a leading minus."""
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"type": "string", "example": "49.90", **metadata}, **kwargs)
        self.signed = signed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        """Parse the amount exactly, bounded before it becomes a Decimal."""
        try:
            return parse_amount(value, signed=self.signed)
        except MoneyError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        """Write the amount as a string."""
        return None if value is None else str(value)


class MinorAmount(fields.Field):
    """Money kept in minor units (ledger rows), written as a decimal string in the currency
    named by the object's `currency`."""

    def __init__(self, **kwargs: Any) -> None:
        """Document the field as a string in OpenAPI; it is output only."""
        metadata = kwargs.pop("metadata", {})
        super().__init__(
            dump_only=True, metadata={"type": "string", "example": "49.90", **metadata}, **kwargs
        )

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        """Write minor units as the currency's decimal string."""
        return None if value is None else str(from_minor(value, obj.currency))


class UtcInstant(fields.DateTime):
    """A stored moment written as ISO 8601 in UTC (SQLite hands stored moments back without
    their zone; they are UTC). Output only."""

    def __init__(self, **kwargs: Any) -> None:
        """Output only."""
        super().__init__(dump_only=True, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        """Write the moment in UTC with its zone."""
        if value is None:
            return None
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat()


def check_amounts(data: dict[str, Any], *names: str, currency: str = "currency") -> None:
    """Check that the amounts `names` of a loaded object fit its `currency` field (its minor
    digits, below its ceiling); raise a ValidationError naming each field that does not."""
    code = data.get(currency)
    if code is None or not is_currency(code):
        return  # the currency field reports its own error
    errors: dict[str, list[str]] = {}
    for name in names:
        amount = data.get(name)
        if amount is None:
            continue
        try:
            check_amount(amount, code)
        except MoneyError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)


def plain_decimal(value: str) -> str:
    """Validate text as a plain decimal in remedy.money's shape (e.g. a what-if sweep value,
    which becomes an amount, a factor or a count of the caps document)."""
    try:
        parse_decimal(value, signed=True)
    except MoneyError as error:
        raise ValidationError(str(error)) from None
    return value


class CurrencyCode(validate.Validator):
    """Accept only active ISO 4217 codes."""

    error = "unknown ISO 4217 currency code"

    def __call__(self, value: str) -> str:
        """Check the code."""
        if not is_currency(value):
            raise ValidationError(self.error)
        return value


def currency_field(**kwargs: Any) -> fields.String:
    """Return a field for an ISO 4217 currency code."""
    return fields.String(
        validate=CurrencyCode(), metadata={"example": "EUR", "pattern": "^[A-Z]{3}$"}, **kwargs
    )


class Moment(fields.Field):
    """A UTC date ('2026-11-01', midnight) or an ISO 8601 date-time with a zone."""

    default_error_messages = {"invalid": "must be a date (YYYY-MM-DD) or a date-time with a zone"}

    def __init__(self, **kwargs: Any) -> None:
        """Document the field as a string in OpenAPI."""
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"type": "string", "example": "2026-11-01", **metadata}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        """Parse the moment as an aware UTC datetime inside remedy.moments' range."""
        from remedy.ledger.periods import parse_moment

        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid")
        try:
            return to_utc(parse_moment(value))
        except MomentError as error:
            raise ValidationError(str(error)) from None
        except OverflowError:  # moved to UTC, it left datetime's range
            raise ValidationError(OUT_OF_RANGE) from None
        except ValueError:
            raise self.make_error("invalid") from None
