"""API keys: random, shown once, stored as SHA-256, identified by a visible prefix.

A key looks like `rmd_<8-char prefix>_<43-char secret>`. The secret has 256 bits of entropy, so
a fast hash is safe here (there is nothing to brute-force), and lookup by hash is one index probe.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import Forbidden, InvalidInput, NotFound
from remedy.ledger.budgets import DEFAULT_TEAM
from remedy.store import audit, generation
from remedy.store.generation import GenerationCache
from remedy.store.tables import ApiKey, utcnow

# Lowest first. A lead (always team-scoped) does what an agent does and approves its team's
# plans up to the lead tier of the caps' approvals; finance approves every tier; admin all.
ROLES = ("agent", "lead", "finance", "admin")
# The roles a role includes besides itself (admin includes every role).
INCLUDES = {"lead": frozenset({"agent"})}


def hash_key(token: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's prefix, role and team scope."""

    prefix: str
    role: str
    team: str | None
    # A panel session's key stops working at this time (None: until revoked).
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        """Tell whether this key's time is up (a panel session's key after its expiry)."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    def has_role(self, *roles: str) -> bool:
        """Tell whether the caller has one of `roles`: admin may do everything, a lead what an
        agent may."""
        if self.role == "admin" or self.role in roles:
            return True
        return any(role in INCLUDES.get(self.role, ()) for role in roles)

    # -- the one team-scope policy: a scoped key reads and changes its own team only ----------

    def sees(self, team: str | None) -> bool:
        """Tell whether this key may see `team`'s data (an unscoped key sees every team)."""
        return self.team is None or team == self.team

    def team_for(self, requested: str | None, field: str = "team") -> str:
        """The team a request acts for: the one named, else the key's own, else `default`."""
        team = requested or self.team or DEFAULT_TEAM
        self.require_team(team, field)
        return team

    def require_team(self, team: str, field: str = "team") -> None:
        """Refuse (403, naming `field`) to act for a team this key is not scoped to."""
        if not self.sees(team):
            raise Forbidden(
                f"this key is scoped to team {self.team!r}",
                {field: [f"must be {self.team!r} for this key"]},
            )

    def require_unscoped(self) -> None:
        """Refuse (403) a scoped key a change every team shares (catalog, rules, caps, model)."""
        if self.team is not None:
            raise Forbidden(
                f"this key is scoped to team {self.team!r}; this changes what every team "
                "shares and needs a key without a team"
            )

    def hide_unless_sees(self, team: str | None, what: str) -> None:
        """Answer 404 for another team's resource, as if it did not exist."""
        if not self.sees(team):
            raise NotFound(f"no {what}")


class PrincipalCache(GenerationCache):
    """A worker's valid keys (by hash) and their principals, for one cache generation."""


class KeyService:
    """Creates, lists, revokes and checks API keys."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def create(
        self, role: str, team: str | None = None, label: str = "", actor: str = "cli"
    ) -> tuple[str, ApiKey]:
        """Create a key; return the plaintext (shown once) and the stored row."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", {"role": [f"must be one of {ROLES}"]})
        if role == "lead" and not team:
            message = "a lead key approves its own team's plans: give its team"
            raise InvalidInput(message, {"team": [message]})
        prefix = secrets.token_hex(4)
        token = f"rmd_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKey(prefix=prefix, key_hash=hash_key(token), role=role, team=team, label=label)
        self.session.add(row)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "create",
            "api_key",
            prefix,
            None,
            {"role": role, "team": team, "label": label},
        )
        return token, row

    def authenticate(self, token: str, cache: PrincipalCache | None = None) -> Principal | None:
        """Return the principal for a valid, unrevoked, unexpired key, else None.

        With a `cache` (one per worker), a key seen since the last change to any key costs no
        query of its own; revoking a key moves the cache generation, so the next request with
        it is refused in every worker.
        """
        digest = hash_key(token)
        current = generation.current(self.session) if cache is not None else None
        if cache is not None:
            principal = cache.get(current, digest)
            if principal is not None:
                # Expiry needs no invalidation: a cached key is checked against the clock.
                return None if principal.expired() else principal
        row = self.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == digest))
        if row is None or row.revoked_at is not None:
            return None  # not cached: unknown keys stay unknown until they are created
        principal = Principal(row.prefix, row.role, row.team, row.expires_at)
        if principal.expired():
            return None
        if cache is not None:
            cache.put(current, digest, principal)
        return principal

    def list(self, team: str | None = None) -> list[ApiKey]:
        """Return every key, newest first."""
        statement = sa.select(ApiKey).order_by(ApiKey.id.desc())
        if team is not None:  # a team-scoped admin sees its team's keys only
            statement = statement.where(ApiKey.team == team)
        return list(self.session.scalars(statement))

    def revoke(self, prefix: str, actor: str, scope: Principal | None = None) -> ApiKey:
        """Revoke the key with `prefix`."""
        row = self.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None or (scope is not None and scope.team is not None and row.team != scope.team):
            raise NotFound(f"no key with prefix {prefix!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(
                self.session,
                actor,
                "revoke",
                "api_key",
                prefix,
                {"revoked": False},
                {"revoked": True},
            )
        return row
