"""Idempotency keys: what makes two requests "the same" (method, path and JSON body)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

# Printable ASCII without spaces, as in the IETF Idempotency-Key draft's examples (UUIDs, ULIDs).
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(method: str, path: str, body: Any) -> str:
    """Return a SHA-256 over the method, the path and the canonical JSON of the body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()
