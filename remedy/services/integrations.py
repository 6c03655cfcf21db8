"""Help-desk integrations: the host signs its agent in to the panel, no key in the agent's hands.

An admin creates an integration (name, team, the host origins it runs on) and gets its secret
once. The help desk's backend (or its app framework's signing proxy) mints, for the agent
signed in there, an HS256 JWT: `iss` the integration's id, `aud` "remedy-panel", `sub` the
agent, `team` the integration's team, `exp` a few minutes ahead. The panel exchanges it
(POST /v1/panel/sessions) for a short-lived agent key scoped to that team, which it keeps in
memory only. PyJWT checks signature, algorithm, issuer, audience and expiry; this module adds
what PyJWT cannot know: the integration exists and is live, the team is its team, the token
does not live longer than the deployment allows, and the host origin is one it allows.

A refused token is logged with the reason and the claimed issuer, never the token (it is a
bearer credential until it expires).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import InvalidInput, NotFound, Unauthorized
from remedy.origins import BadPattern, allowed, parse_patterns
from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.keys import hash_key
from remedy.store import audit
from remedy.store.tables import ApiKey, Integration, utcnow

log = logging.getLogger(__name__)

AUDIENCE = "remedy-panel"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30  # clocks of the host's backend and remedy's may differ a little
REQUIRED_CLAIMS = ["iss", "aud", "sub", "team", "exp"]
_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_ORIGINS = 20
# Panel session keys are minted at every sign-in: expired ones are deleted by the worker a day
# after they expire (the access log's prefixes stay explainable for that day), in batches.
PURGE_EVERY = timedelta(hours=1)
PURGE_AFTER = timedelta(days=1)
PURGE_BATCH = 10_000


class IntegrationService:
    """Creates and lists integrations; turns a host-minted token into a panel session key."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def create(
        self, name: str, team: str, origins: list[str], actor: str
    ) -> tuple[str, Integration]:
        """Create an integration; return its secret (shown once) and the row. Audited."""
        if not origins:
            raise InvalidInput(
                "an integration needs the host origins its panel runs on",
                {"allowed_origins": ["give at least one origin, e.g. https://*.example.com"]},
            )
        if len(origins) > MAX_ORIGINS:
            message = f"at most {MAX_ORIGINS} origins"
            raise InvalidInput(message, {"allowed_origins": [message]})
        try:
            patterns = parse_patterns(origins)
        except BadPattern as error:
            raise InvalidInput(str(error), {"allowed_origins": [str(error)]}) from None
        secret = secrets.token_urlsafe(48)  # 384 bits: above HS256's 256-bit key size
        row = Integration(
            id=secrets.token_hex(16),
            name=name,
            team=team,
            allowed_origins=[str(p) for p in patterns],
            secret=secret,
            created_by=actor,
        )
        self.session.add(row)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "create",
            "integration",
            row.id,
            None,
            {"name": name, "team": team, "allowed_origins": row.allowed_origins},
        )
        return secret, row

    def list(self, team: str | None = None) -> list[Integration]:
        """Every integration (a team's only, for a scoped admin), newest first."""
        statement = sa.select(Integration).order_by(Integration.created_at.desc())
        if team is not None:
            statement = statement.where(Integration.team == team)
        return list(self.session.scalars(statement))

    def revoke(self, integration_id: str, actor: str, team: str | None = None) -> Integration:
        """Stop an integration's tokens and its sessions' keys at once. Audited."""
        row = self.session.get(Integration, integration_id)
        if row is None or (team is not None and row.team != team):
            raise NotFound(f"no integration {integration_id!r}")
        if row.revoked_at is None:
            now = utcnow()
            row.revoked_at = now
            # Its live session keys go too (an ORM change: every worker's key cache drops them).
            for key in self.session.scalars(
                sa.select(ApiKey).where(
                    ApiKey.integration_id == row.id, ApiKey.revoked_at.is_(None)
                )
            ):
                key.revoked_at = now
            audit.record(
                self.session,
                actor,
                "revoke",
                "integration",
                row.id,
                {"revoked": False},
                {"revoked": True},
            )
        return row

    def open_session(
        self,
        token: str,
        origin: str,
        session_minutes: int,
        token_max_minutes: int,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Verify a host-minted token and return a new panel session key and what it is for.

        Raises Unauthorized (401) for any token that fails, with the reason in words (the
        token is never logged or echoed)."""
        now = now or utcnow()
        issuer = _claimed_issuer(token)
        integration = self.session.get(Integration, issuer) if issuer else None
        if integration is None or integration.revoked_at is not None:
            self._refuse("unknown or revoked integration", issuer)
        try:
            claims = jwt.decode(
                token,
                integration.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=integration.id,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            self._refuse("the token has expired", issuer)
        except jwt.InvalidAudienceError:
            self._refuse(f"the token's audience is not {AUDIENCE!r}", issuer)
        except jwt.MissingRequiredClaimError as error:
            self._refuse(f"the token lacks the claim {error.claim!r}", issuer)
        except jwt.InvalidSignatureError:
            self._refuse("the token's signature does not verify", issuer)
        except jwt.InvalidTokenError as error:
            self._refuse(f"the token is invalid ({type(error).__name__})", issuer)
        expires = claims["exp"]
        if not isinstance(expires, int | float) or expires - now.timestamp() > (
            token_max_minutes * 60 + LEEWAY_SECONDS
        ):
            self._refuse(f"the token lives longer than {token_max_minutes} minutes", issuer)
        if claims["team"] != integration.team:
            self._refuse("the token's team is not the integration's", issuer)
        agent = claims["sub"]
        if not isinstance(agent, str) or not 0 < len(agent) <= 200:
            self._refuse("the token's sub is not an agent id of 1-200 characters", issuer)
        if not allowed(parse_patterns(integration.allowed_origins), origin):
            self._refuse(f"the host origin {origin[:100]!r} is not allowed", issuer)
        return self._new_key(integration, agent, now + timedelta(minutes=session_minutes))

    def _new_key(self, integration: Integration, agent: str, expires: datetime) -> dict[str, Any]:
        """Store a new agent key for this integration's team, valid until `expires`.

        Written with a Core insert on purpose: a new key needs no cache invalidation (unknown
        keys are never cached), and an ORM insert would move the cache generation and make
        every worker reload its keys, configuration and model at every panel sign-in."""
        prefix = secrets.token_hex(4)
        key = f"rmd_{prefix}_{secrets.token_urlsafe(32)}"
        self.session.execute(
            sa.insert(ApiKey).values(
                prefix=prefix,
                key_hash=hash_key(key),
                role="agent",
                team=integration.team,
                label=f"panel {integration.name}: {agent}"[:200],
                created_at=utcnow(),
                expires_at=expires,
                integration_id=integration.id,
            )
        )
        log.info(
            "panel session %s opened for agent %r of integration %s until %s",
            prefix,
            agent,
            integration.id,
            expires.isoformat(),
        )
        return {
            "key": key,
            "prefix": prefix,
            "role": "agent",
            "team": integration.team,
            "agent": agent,
            "integration_id": integration.id,
            "expires_at": expires,
        }

    def _refuse(self, reason: str, issuer: str | None) -> Any:
        """Log why a token was refused (never the token) and raise 401."""
        log.warning("panel sign-in refused: %s (integration %s)", reason, issuer or "unknown")
        raise Unauthorized(f"Panel sign-in refused: {reason}.", {"token": [reason]})


def _claimed_issuer(token: str) -> str | None:
    """The `iss` the token claims, read before verifying (to find the key), or None."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) and _ID.match(issuer) else None


def purge_expired_sessions(session: Session, now: datetime | None = None) -> int:
    """Delete up to `PURGE_BATCH` panel session keys expired more than `PURGE_AFTER` ago;
    return how many. Only keys minted for integrations: an admin's own keys are revoked, never
    deleted. An expired key is refused whether or not it is still stored (the key cache checks
    expiry), so deleting one needs no cache invalidation."""
    cutoff = (now or utcnow()) - PURGE_AFTER
    expired = (
        sa.select(ApiKey.id)
        .where(ApiKey.integration_id.is_not(None), ApiKey.expires_at < cutoff)
        .limit(PURGE_BATCH)
    )
    ids = list(session.scalars(expired))
    if not ids:
        return 0
    session.execute(
        sa.delete(ApiKey).where(ApiKey.id.in_(ids)).execution_options(synchronize_session=False)
    )
    return len(ids)


def purge_sessions(context: TaskContext) -> str:
    """The worker's periodic task: delete long-expired panel session keys."""
    purged = purge_expired_sessions(context.session)
    return f"deleted {purged} expired panel session key(s)" if purged else ""


def register_jobs(registry: JobRegistry) -> None:
    """Register the integrations' upkeep: every worker purges expired panel session keys."""
    registry.periodic("integrations.purge_sessions", PURGE_EVERY, purge_sessions)
