"""Marshmallow fields for money: decimal strings in and out, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate

from remedy.money import from_minor, is_currency


class Amount(fields.Field):
    """A money amount as a decimal string (an integer is accepted; a float never)."""

    default_error_messages = {
        "invalid": 'must be a decimal string such as "12.50"',
        "float": 'send money as a decimal string such as "12.50", not a JSON float',
    }

    def __init__(self, **kwargs: Any) -> None:
        """Document the field as a string in OpenAPI."""
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"type": "string", "example": "49.90", **metadata}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        """Parse the amount exactly."""
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            raise self.make_error("float")
        if not isinstance(value, str | int) or (isinstance(value, str) and len(value) > 40):
            raise self.make_error("invalid")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        return amount

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
        """Parse the moment as an aware UTC datetime."""
        from remedy.ledger.periods import parse_moment

        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_moment(value)
        except ValueError:
            raise self.make_error("invalid") from None
