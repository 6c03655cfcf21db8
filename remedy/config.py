"""Settings, read from the environment (REMEDY_*) with defaults that work on a laptop."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

# The largest mass-incident body: 20,000 customers at about 200 bytes each.
MASS_INCIDENT_MAX_BYTES = 4 * 1024 * 1024


def from_environment(instance_path: str) -> dict[str, Any]:
    """Return the app settings: defaults overridden by REMEDY_* environment variables."""
    env = os.environ.get
    default_db = "sqlite:///" + str(Path(instance_path) / "remedy.sqlite")
    return {
        # The database: SQLite in the instance folder by default; PostgreSQL in production.
        "DATABASE_URL": env("REMEDY_DATABASE_URL", default_db),
        # Connections each process keeps (`remedy serve` sets it to the threads per worker).
        "DATABASE_POOL_SIZE": int(env("REMEDY_DATABASE_POOL_SIZE", "5")),
        # How long anything waits for the database (remedy/store/session.py, Timeouts): to
        # connect (seconds, whole ones on PostgreSQL), for one statement on PostgreSQL
        # (milliseconds; 0 is none; below gunicorn's 30 s worker timeout), and for a free
        # pooled connection (seconds). A hung database answers 503 after these, not ~130 s.
        "DATABASE_CONNECT_TIMEOUT": float(env("REMEDY_DATABASE_CONNECT_TIMEOUT", "3")),
        "DATABASE_STATEMENT_TIMEOUT_MS": int(env("REMEDY_DATABASE_STATEMENT_TIMEOUT_MS", "15000")),
        "DATABASE_POOL_TIMEOUT": float(env("REMEDY_DATABASE_POOL_TIMEOUT", "3")),
        # Seconds a request's body has to arrive whole under gunicorn, front or not (408 and
        # the connection closed after; 0 is no limit): remedy/api/body_deadline.py.
        "BODY_DEADLINE_SECONDS": float(env("REMEDY_BODY_DEADLINE", "5")),
        # Request bodies above this many bytes get 413 before they are parsed.
        "MAX_CONTENT_LENGTH": int(env("REMEDY_MAX_BODY_BYTES", str(64 * 1024))),
        # How a retained customer and a referral are valued (see decisions/ranker.py).
        "HORIZON_YEARS": Decimal(env("REMEDY_HORIZON_YEARS", "1")),
        "REFERRAL_SHARE": Decimal(env("REMEDY_REFERRAL_SHARE", "0.5")),
        "WORD_OF_MOUTH_SHARE": Decimal(env("REMEDY_WORD_OF_MOUTH_SHARE", "0.5")),
        # Where trained models live (each version in its own folder).
        "MODEL_DIR": env("REMEDY_MODEL_DIR", str(Path(instance_path) / "models")),
        # Logged exploration (decisions/exploration.py): share of decisions that show another
        # top plan first, how many top plans it draws from, and a seed for reproducible runs.
        "EXPLORATION_RATE": Decimal(env("REMEDY_EXPLORATION_RATE", "0.10")),
        "EXPLORATION_TOP_K": int(env("REMEDY_EXPLORATION_TOP_K", "5")),
        # Adaptive exploration (remedy/decisions/exploration.py): more where the top plans'
        # values are close; "0" or empty: the uniform rule.
        "EXPLORATION_CLOSENESS": Decimal(env("REMEDY_EXPLORATION_CLOSENESS", "0.05") or "0"),
        "EXPLORATION_SEED": int(env("REMEDY_EXPLORATION_SEED"))
        if env("REMEDY_EXPLORATION_SEED")
        else None,
        # Requests per API key (Flask-Limiter syntax; empty turns limits off) and where the
        # counters live ("memory://" per process, or e.g. "redis://127.0.0.1:6379/0" shared).
        # The most logged incidents one POST /v1/budgets/simulate replays: it runs inside the
        # request, which gunicorn's worker timeout (`remedy serve`: 120 s) bounds; at ~110-300
        # incidents/s per worker, 5,000 with a sweep stays well inside it. `remedy whatif` has
        # no limit.
        "WHATIF_MAX_INCIDENTS": int(env("REMEDY_WHATIF_MAX_INCIDENTS", "200000")),
        "WHATIF_PARTITION_INCIDENTS": int(env("REMEDY_WHATIF_PARTITION_INCIDENTS", "25000")),
        # The most candidate plans one decision may enumerate: a catalog or caps document
        # allowing more is refused (services/config_trial.py).
        "MAX_PLANS": int(env("REMEDY_MAX_PLANS", "2000")),
        # The CPU a configuration's trial decisions may average (services/config_trial.py).
        "TRIAL_MS_PER_DECISION": float(env("REMEDY_TRIAL_MS_PER_DECISION", "100")),
        # The longest range (days) a report reads in a request (services/reports.py).
        "REPORT_MAX_DAYS": int(env("REMEDY_REPORT_MAX_DAYS", "366")),
        # Jobs one API key, and one team, may have queued or running at once (429 beyond).
        "JOBS_PER_KEY": int(env("REMEDY_JOBS_PER_KEY", "5")),
        "JOBS_PER_TEAM": int(env("REMEDY_JOBS_PER_TEAM", "20")),
        "RATE_LIMIT": env("REMEDY_RATE_LIMIT", "3000/minute"),
        "RATE_LIMIT_STORAGE_URI": env("REMEDY_RATE_LIMIT_STORAGE_URI", "memory://"),
        # remedy's log level (JSON lines on stderr; access lines are INFO).
        "LOG_LEVEL": env("REMEDY_LOG_LEVEL", "INFO"),
        # How many plans a recommendation returns unless the request says otherwise.
        "DEFAULT_LIMIT": int(env("REMEDY_DEFAULT_LIMIT", "3")),
        # Who may frame the agent panel (/console/panel): 'self' and origins, never '*'
        # (remedy/console/framing.py checks it at start).
        "PANEL_FRAME_ANCESTORS": env("REMEDY_PANEL_FRAME_ANCESTORS", "'self'"),
        # Whether an agent may paste an API key into the panel (or the host post one); off
        # when every panel signs in through its help desk (POST /v1/panel/sessions).
        "PANEL_PASTED_KEYS": env("REMEDY_PANEL_PASTED_KEYS", "1").strip().lower()
        not in ("0", "false", "no", "off"),
        # How long a panel session's key lives, and the longest a host-minted token may.
        "PANEL_SESSION_MINUTES": int(env("REMEDY_PANEL_SESSION_MINUTES", "30")),
        "PANEL_TOKEN_MAX_MINUTES": int(env("REMEDY_PANEL_TOKEN_MAX_MINUTES", "10")),
        # Four eyes (services/approvals.py, FourEyes): the approval tiers where nobody approves
        # a plan they asked for, accepted or asked approval for, and the tiers an admin key may
        # decide in (none by default). Comma-separated tier names: lead, finance.
        "FOUR_EYES_TIERS": env("REMEDY_FOUR_EYES_TIERS", "lead,finance"),
        "ADMIN_APPROVAL_TIERS": env("REMEDY_ADMIN_APPROVAL_TIERS", ""),
        # Incidents at risk (services/at_risk.py): a fix is near once this share of its window
        # is left; an approval is at risk once it waited this share of the time its fix had
        # left; open plans and apology-only answers are looked for this many days back.
        "AT_RISK_NEAR_SHARE": env("REMEDY_AT_RISK_NEAR_SHARE", "0.25"),
        "AT_RISK_APPROVAL_SHARE": env("REMEDY_AT_RISK_APPROVAL_SHARE", "0.5"),
        "AT_RISK_DAYS": int(env("REMEDY_AT_RISK_DAYS", "7")),
        # How long an accepted plan holds its budget before it expires unfulfilled (48 hours).
        "RESERVATION_TTL_SECONDS": int(env("REMEDY_RESERVATION_TTL_SECONDS", str(48 * 3600))),
        # Mass incidents (services/mass_incidents.py): the most customers one may list, the
        # largest body POST /v1/mass-incidents takes (that route only), and the customers
        # reserved in one transaction.
        "MASS_INCIDENT_MAX_ROWS": int(env("REMEDY_MASS_INCIDENT_MAX_ROWS", "20000")),
        "MASS_INCIDENT_MAX_BYTES": int(
            env("REMEDY_MASS_INCIDENT_MAX_BYTES", str(MASS_INCIDENT_MAX_BYTES))
        ),
        "MASS_INCIDENT_CHUNK_SIZE": int(env("REMEDY_MASS_INCIDENT_CHUNK_SIZE", "200")),
        # Webhooks (services/webhooks.py): seconds one delivery may take, the first retry's
        # delay (doubling each time, at most an hour), the attempts before it is failed, and
        # whether receivers on private addresses are allowed (off: no request forgery inside).
        "WEBHOOK_TIMEOUT_SECONDS": float(env("REMEDY_WEBHOOK_TIMEOUT_SECONDS", "5")),
        "WEBHOOK_RETRY_SECONDS": float(env("REMEDY_WEBHOOK_RETRY_SECONDS", "30")),
        "WEBHOOK_MAX_ATTEMPTS": int(env("REMEDY_WEBHOOK_MAX_ATTEMPTS", "8")),
        "WEBHOOK_ALLOW_PRIVATE": env("REMEDY_WEBHOOK_ALLOW_PRIVATE", "0") == "1",
    }
