"""Idempotency-Key: a retry of a request that succeeded gets the first answer, changing nothing.

The key is claimed by inserting its row at the start of the request's transaction. A concurrent
request with the same key waits on the unique index (PostgreSQL) or on the write lock (SQLite)
until the first finishes: if the first committed, the insert fails and the stored answer is
replayed; if it failed, nothing was stored and the retry runs afresh. Only successful answers
are stored: an error changed nothing, so running the request again is safe (and lets a retry
succeed once the cause is fixed). The same key with a different request is refused (422).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from remedy.errors import Conflict, InvalidInput
from remedy.store.tables import IdempotencyKey

HEADER = "Idempotency-Key"
# Printable ASCII without spaces, as in the IETF Idempotency-Key draft's examples (UUIDs, ULIDs).
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(method: str, path: str, body: Any) -> str:
    """Return a SHA-256 over the method, the path and the canonical JSON of the body: what makes
    two requests "the same"."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    """A step's answer: the JSON body, its status, and whether it is a stored one replayed."""

    body: dict[str, Any]
    status: int
    replayed: bool


class IdempotencyService:
    """Claims keys and stores answers in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def claim(
        self, principal: str, key: str, fingerprint: str
    ) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
        """Claim `key` for this request: return (claimed row, None) or (None, stored answer)."""
        stored = self._find(principal, key)
        if stored is None:
            row = IdempotencyKey(principal=principal, key=key, fingerprint=fingerprint)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
            except IntegrityError:
                stored = self._find(principal, key)  # a concurrent request got there first
            else:
                return row, None
        if stored is None or stored.status_code is None:
            raise Conflict(f"a request with this {HEADER} is in progress; retry")
        if stored.fingerprint != fingerprint:
            raise InvalidInput(
                f"this {HEADER} was used for a different request",
                {HEADER: ["was used with a different method, path or body"]},
            )
        return None, stored

    def once(
        self,
        principal: str,
        key: str | None,
        fingerprint: str,
        run: Callable[[], tuple[dict[str, Any], int]],
    ) -> Answer:
        """Run `run` once per (principal, key): a retry gets the stored answer, replayed.

        Without a key `run` simply runs. `run` returns the answer's JSON body and status.
        """
        claim = None
        if key is not None:
            claim, stored = self.claim(principal, key, fingerprint)
            if stored is not None:
                return Answer(stored.body or {}, stored.status_code or 200, replayed=True)
        body, status = run()
        if claim is not None:
            self.complete(claim, status, body)
        return Answer(body, status, replayed=False)

    def complete(self, row: IdempotencyKey, status_code: int, body: dict[str, Any]) -> None:
        """Store the answer to replay for this key."""
        row.status_code = status_code
        row.body = body

    def purge(self, before: datetime) -> int:
        """Delete the keys claimed before `before`; return how many.

        A retry sent after its key was purged runs afresh, so keep keys longer than any client
        retries (the CLI's default is 7 days). A row still without an answer that old belongs
        to a request that never finished (its transaction was rolled back or its worker died).
        """
        result = self.session.execute(
            sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < before)
        )
        return int(result.rowcount or 0)

    def _find(self, principal: str, key: str) -> IdempotencyKey | None:
        """Return the committed row for (principal, key), read afresh."""
        return self.session.scalar(
            sa.select(IdempotencyKey)
            .where(IdempotencyKey.principal == principal, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
