"""Marshmallow fields for what enters over HTTP: money as decimal strings (never floats),
currency codes, date-times inside their range, strict booleans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from catalog.validation import StrictBoolean, UtcDateTime
from remedy.moments import MomentError, iso_utc, read_moment
from remedy.money import (
    MAX_MINOR,
    MAX_MINOR_DIGITS,
    MAX_PLACES,
    MAX_TEXT,
    MINOR_UNITS,
    MoneyError,
    check_amount,
    from_minor,
    is_currency,
    parse_amount,
    parse_decimal,
)

__all__ = [
    "Amount",
    "AmountOut",
    "CurrencyCode",
    "MinorAmount",
    "Moment",
    "StrictBoolean",
    "UtcDateTime",
    "UtcInstant",
    "check_amounts",
    "currency_field",
    "plain_decimal",
    "PLAIN_DECIMAL_SCHEMA",
]


class Amount(fields.Field):
    """A money amount as a decimal string (an integer is accepted; a float never), read by
    remedy.money's one parser. Its currency is usually a sibling field: `check_amounts` then
    checks the minor digits and the currency's ceiling."""

    def __init__(self, *, signed: bool = False, **kwargs: Any) -> None:
        """Document the field in OpenAPI as what the parser takes; `signed` allows a minus."""
        metadata = kwargs.pop("metadata", {})
        ranges = [v for v in _validators(kwargs.get("validate")) if isinstance(v, validate.Range)]
        schema = money_schema(
            signed,
            maximum=min((Decimal(r.max) for r in ranges if r.max is not None), default=None),
            above_zero=any(r.min == 0 and not r.min_inclusive for r in ranges),
        )
        super().__init__(metadata={**schema, **metadata}, **kwargs)
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


def money_schema(
    signed: bool = False, maximum: Decimal | None = None, above_zero: bool = False
) -> dict[str, Any]:
    """The OpenAPI schema of an amount as remedy.money reads it before knowing the currency:
    ASCII digits, at most 12 before the dot (leading zeros aside: 10**12 minor units of a
    currency without decimals) and at most 4 after it (the most any currency has), or a whole
    JSON integer in the same range; with `maximum` (a power of ten) up to it, with
    `above_zero` not zero. What depends on the currency (its own decimals and ceiling) is
    checked by `check_amounts` and cannot be said in the schema."""
    sign = "-?" if signed else ""
    places = rf"(\.[0-9]{{1,{MAX_PLACES}}})?"
    bound = MAX_MINOR - 1
    digits = MAX_MINOR_DIGITS
    top = ""
    if maximum is not None:
        digits = len(str(int(maximum))) - 1  # below 10**digits ...
        bound = int(maximum)
        if maximum == Decimal(10) ** digits:  # ... or exactly the maximum
            top = rf"|{maximum}(\.0{{1,{MAX_PLACES}}})?"
        else:
            bound = 10**digits - 1
    not_zero = r"(?!0*(\.0*)?$)" if above_zero else ""
    return {
        "anyOf": [
            {
                "type": "string",
                "pattern": rf"^{not_zero}{sign}0*([0-9]{{1,{digits}}}{places}{top})$",
                "maxLength": MAX_TEXT,
            },
            {
                "type": "integer",
                "minimum": -bound if signed else 1 if above_zero else 0,
                "maximum": bound,
            },
        ],
        "example": "49.90",
    }


class AmountOut(Amount):
    """An amount the API writes (costs, values, expected net values: any sign, any size)."""

    def __init__(self, **kwargs: Any) -> None:
        """Document the field as a signed decimal string in OpenAPI."""
        metadata = kwargs.pop("metadata", {})
        schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "example": "49.90"}
        fields.Field.__init__(self, metadata={**schema, **metadata}, **kwargs)
        self.signed = True


def _validators(given: Any) -> list[Any]:
    """The validators passed to a field, as a list."""
    if given is None:
        return []
    return list(given) if isinstance(given, list | tuple) else [given]


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
        return iso_utc(value)


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


# A plain decimal in remedy.money's shape (`parse_decimal`'s defaults), for OpenAPI.
PLAIN_DECIMAL_SCHEMA = {
    "pattern": rf"^-?0*[0-9]{{1,{MAX_MINOR_DIGITS}}}(\.[0-9]{{1,12}})?$",
    "maxLength": MAX_TEXT,
    "example": "2.5",
}


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
    """Return a field for an ISO 4217 currency code (listed as an enum in OpenAPI)."""
    return fields.String(
        validate=CurrencyCode(),
        metadata={"example": "EUR", "enum": sorted(MINOR_UNITS)},
        **kwargs,
    )


class Moment(fields.Field):
    """A UTC date ('2026-11-01', midnight) or an ISO 8601 date-time with a zone."""

    default_error_messages = {"invalid": "must be a date (YYYY-MM-DD) or a date-time with a zone"}

    def __init__(self, **kwargs: Any) -> None:
        """Document the field as a string in OpenAPI."""
        metadata = kwargs.pop("metadata", {})
        one_of = {"anyOf": [{"format": "date"}, {"format": "date-time"}]}
        super().__init__(
            metadata={"type": "string", **one_of, "example": "2026-11-01", **metadata}, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        """Parse the moment as an aware UTC datetime inside remedy.moments' range."""
        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid")
        try:
            return read_moment(value)
        except MomentError as error:
            raise ValidationError(str(error)) from None
        except ValueError:
            raise self.make_error("invalid") from None
