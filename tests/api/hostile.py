"""What the hostile-input tests share (test_hostile_input.py, test_hostile_bodies.py): the CPU
one hostile request may take, the check of a refusal, and the plan they accept. The sender that
holds each request to that bound is the `send` fixture of tests/api/conftest.py."""

from __future__ import annotations

CPU_BOUND = 1.0  # seconds of CPU one hostile request may take
GIFT = "apology+gift_1x"


def refused(response, field: str, status: int = 422) -> None:
    """Assert an error in the envelope that names `field` (and is never retryable)."""
    assert response.status_code == status, response.json
    assert response.json["code"] == status, response.json
    assert field in response.json["errors"], response.json
    assert "Retry-After" not in response.headers, dict(response.headers)
