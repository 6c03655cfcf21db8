"""Shared helpers for validating data files (catalog, rules, caps) with marshmallow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields

from remedy.moments import MomentError, to_utc
from remedy.money import MoneyError, is_currency, parse_amount, parse_decimal


class DataFileError(ValueError):
    """A catalog, rules or caps document that does not validate; the message names the spot.

    `fields` maps each failing field's dotted path in the document to its messages, when the
    loader knows them, so an editor can show each message next to its field.
    """

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        """Keep the message and the per-field messages."""
        super().__init__(message)
        self.fields = fields or {}


class DecimalText(fields.Field):
    """A plain decimal (a factor, a share) given as a string or int, never a float (YAML floats
    lose exactness): ASCII digits, one optional dot, no exponent; read by remedy.money."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        """Parse the value into a bounded Decimal."""
        try:
            return parse_decimal(value, signed=True)
        except MoneyError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        """Write the decimal back as a string."""
        return None if value is None else str(value)


class AmountsByCurrency(fields.Field):
    """Money per currency, `{"EUR": "300.00", "JPY": "50000"}`: each amount read by
    remedy.money's parser for its currency (minor digits, ceiling), errors named by currency.

    Unknown currency codes are left to the document's loader, which names them all at once;
    their amounts are still read, bounded by the widest currency.
    """

    default_error_messages = {"invalid": "must be a mapping of currency codes to amounts"}

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, Decimal]:
        """Parse every amount for its currency."""
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        amounts: dict[str, Decimal] = {}
        errors: dict[str, list[str]] = {}
        for code, amount in value.items():
            if not isinstance(code, str):
                raise self.make_error("invalid")
            try:
                amounts[code] = parse_amount(amount, code if is_currency(code) else None)
            except MoneyError as error:
                errors[code] = [str(error)]
        if errors:
            raise ValidationError(errors)
        return amounts

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        """Write the amounts back as strings."""
        return None if value is None else {code: str(v) for code, v in value.items()}


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 1, 0, "yes" and "off" (and with
    truthy={True} still takes 1 and 0.0, which equal True and False)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        """Accept a bool, nothing else."""
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with a zone, returned in UTC and inside remedy.moments' range."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        """Parse, move to UTC and check the range."""
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_utc(moment)
        except MomentError as error:
            raise ValidationError(str(error)) from None


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into {dotted path: [messages]}."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for field, texts in field_errors(value, path).items():
                found.setdefault(field, []).extend(texts)
    elif isinstance(messages, list):
        for message in messages:
            for field, texts in field_errors(message, prefix).items():
                found.setdefault(field, []).extend(texts)
    else:
        found.setdefault(prefix or "_document", []).append(str(messages))
    return found


def flatten_errors(messages: Any, prefix: str = "") -> list[str]:
    """Turn marshmallow's nested error dict into 'path: message' lines."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(flatten_errors(value, path))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" if prefix else m for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in flatten_errors(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def describe(error: ValidationError, where: str) -> str:
    """Render a ValidationError as one message that starts with `where`."""
    return f"{where}: " + "; ".join(flatten_errors(error.messages))


def load_entries(
    raws: list[Any], schema: Schema, label: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Validate list entries one by one; yield (name, data) and refuse duplicate ids.

    Errors name the entry (`catalog item 'gift_2x': value.factor: ...`), so a bad entry is
    found at load with its id, not at request time.
    """
    seen: set[str] = set()
    for index, raw in enumerate(raws):
        name = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
        try:
            data = schema.load(raw)
        except ValidationError as error:
            raise DataFileError(describe(error, f"{label} {name!r}")) from None
        if data["id"] in seen:
            raise DataFileError(f"{label} {name!r}: id: duplicate id")
        seen.add(data["id"])
        yield name, data
