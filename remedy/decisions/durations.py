"""ISO 8601 durations of days, hours, minutes and seconds ('PT30M'), as the caps document writes
promises and approval escalation: parsed here once, validated as a marshmallow field."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields

_DURATION = re.compile(r"^P(?:(\d{1,3})D)?(?:T(?:(\d{1,3})H)?(?:(\d{1,4})M)?(?:(\d{1,5})S)?)?$")


def duration_seconds(text: str) -> int:
    """Parse an ISO 8601 duration of days, hours, minutes, seconds ('PT30M'); 0 is refused."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or text in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT30M or PT1H")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return total


class Duration(fields.String):
    """An ISO 8601 duration such as 'PT30M'."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        """Check the duration's form."""
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            duration_seconds(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return text
