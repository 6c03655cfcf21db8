"""Versioned configuration documents (catalog, rules, caps, exchange rates) kept in the database.

Each change stores a whole new document with the next version number and an audit entry; the
highest version already in effect is active (a caps document may name a later `effective_at`,
so finance can schedule a change; the highest version in effect supersedes every lower one).
Documents are validated before they are stored, with the catalog and the rules checked against
each other, so a bad change is refused with the name of what is wrong. The exchange rates
training uses (remedy/services/exchange_rates.py) are a document of the same kind, validated
alone: no decision depends on them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import catalog as bundled
from catalog.items import Catalog, load_catalog
from catalog.validation import DataFileError
from remedy.decisions.caps import CapSettings, load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.rules import RuleSet, load_rules
from remedy.errors import InvalidInput, NotFound
from remedy.ledger.periods import EFFECTIVE_AT_GRACE
from remedy.services.config_trial import MAX_MS_PER_DECISION, MAX_PLANS, ConfigTrial
from remedy.services.derived_currencies import derive_currencies
from remedy.services.exchange_rates import EXCHANGE_RATES, ExchangeRates, load_exchange_rates
from remedy.store import audit
from remedy.store.tables import ConfigVersion, utcnow

KINDS = ("catalog", "rules", "caps")  # the documents a decision is made with
DOCUMENT_KINDS = (*KINDS, EXCHANGE_RATES)  # every versioned document


@dataclass(frozen=True)
class ActiveConfig:
    """One validated version of each document."""

    catalog: Catalog
    rules: RuleSet
    caps: CapSettings

    @property
    def key(self) -> tuple[int, int, int]:
        """The versions, used to cache what is built from them."""
        return (self.catalog.version, self.rules.version, self.caps.version)


def validate_set(
    documents: dict[str, dict[str, Any]], rates: ExchangeRates | None = None
) -> ActiveConfig:
    """Validate the three documents together (rules may only name catalog items); with `rates`,
    every rated currency's missing amounts are first derived from the base currency's."""
    if rates is not None:
        documents = derive_currencies(documents, rates.per_usd)
    catalog = load_catalog(documents["catalog"])
    rules = load_rules(documents["rules"], {item.id for item in catalog.items})
    caps = load_caps(documents["caps"])
    return ActiveConfig(catalog, rules, caps)


class ConfigService:
    """Reads and changes the versioned documents."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def active_versions(self, at: datetime | None = None) -> dict[str, int]:
        """Return the version of each kind in effect now (or `at`), in one small query."""
        rows = self.session.execute(
            sa.select(ConfigVersion.kind, sa.func.max(ConfigVersion.version))
            .where(ConfigVersion.effective_at <= (at or utcnow()))
            .group_by(ConfigVersion.kind)
        )
        return {kind: version for kind, version in rows}

    def next_change(self, after: datetime) -> datetime | None:
        """When the next scheduled version takes effect after `after`, if one is scheduled."""
        return self.session.scalar(
            sa.select(sa.func.min(ConfigVersion.effective_at)).where(
                ConfigVersion.effective_at > after
            )
        )

    def document(self, kind: str, version: int | None = None) -> ConfigVersion:
        """Return one version (the active one by default)."""
        query = sa.select(ConfigVersion).where(ConfigVersion.kind == kind)
        if version is None:
            query = (
                query.where(ConfigVersion.effective_at <= utcnow())
                .order_by(ConfigVersion.version.desc())
                .limit(1)
            )
        else:
            query = query.where(ConfigVersion.version == version)
        row = self.session.scalar(query)
        if row is None:
            raise NotFound(f"no {kind} version {version or ''}".strip() + "; run `remedy init`")
        return row

    def history(self, kind: str) -> list[ConfigVersion]:
        """Return every version of `kind`, newest first."""
        return list(
            self.session.scalars(
                sa.select(ConfigVersion)
                .where(ConfigVersion.kind == kind)
                .order_by(ConfigVersion.version.desc())
            )
        )

    def load_active(self, versions: dict[str, int] | None = None) -> ActiveConfig:
        """Load and validate the given (or active) versions of all three documents."""
        versions = versions or self.active_versions()
        missing = [kind for kind in KINDS if kind not in versions]
        if missing:
            raise NotFound(f"no {', '.join(missing)} loaded; run `remedy init`")
        documents = {kind: self.document(kind, versions[kind]).document for kind in KINDS}
        return validate_set(documents, self.rates(versions))

    def rates(self, versions: dict[str, int] | None = None) -> ExchangeRates | None:
        """The exchange rates in effect (of `versions`, else now), or None when none are set."""
        version = (versions or self.active_versions()).get(EXCHANGE_RATES)
        if version is None:
            return None
        return load_exchange_rates(self.document(EXCHANGE_RATES, version).document)

    def latest(self, kind: str) -> ConfigVersion | None:
        """Return the highest version of `kind`, whether or not it is in effect yet."""
        return self.session.scalar(
            sa.select(ConfigVersion)
            .where(ConfigVersion.kind == kind)
            .order_by(ConfigVersion.version.desc())
            .limit(1)
        )

    def replace(
        self,
        kind: str,
        document: dict[str, Any],
        actor: str,
        engine_for: Callable[[ActiveConfig], DecisionEngine] | None = None,
        max_plans: int = MAX_PLANS,
        max_ms_per_decision: float = MAX_MS_PER_DECISION,
    ) -> ConfigVersion:
        """Validate and store a new version of `kind`; audit old and new.

        With `engine_for` (how to build an engine, with the model in use, from a configuration),
        the proposed configuration is first tried on recent and synthetic incidents
        (`remedy.services.config_trial`) and refused if any decision raises."""
        if kind not in DOCUMENT_KINDS:
            raise NotFound(f"unknown document kind {kind!r}")
        versions = self.active_versions()
        previous = self.latest(kind)
        new_version = (previous.version if previous else 0) + 1
        document = {**copy.deepcopy(document), "version": new_version}
        if previous is not None and kind in KINDS:
            documents = {k: self.document(k).document for k in KINDS if k in versions}
            documents[kind] = document
        else:
            documents = {kind: document}
        proposed = None
        try:
            if len(documents) == len(KINDS):
                proposed = validate_set(documents)
            else:
                _validate_alone(kind, document)
        except DataFileError as error:
            # The whole message under the kind, and each field's messages under its path
            # (`caps.incident_caps.default.loss_multiple`), for editors that show them in place.
            fields = {f"{kind}.{path}": messages for path, messages in error.fields.items()}
            raise InvalidInput(str(error), {kind: [str(error)], **fields}) from None
        if proposed is not None and engine_for is not None:
            trial = ConfigTrial(
                self.session, max_plans=max_plans, max_ms_per_decision=max_ms_per_decision
            )
            trial.run(engine_for(proposed), kind)
        now = utcnow()
        effective_at = load_caps(document).effective_at if kind == "caps" else None
        # A scheduled change may not take effect in the past: history is never rewritten.
        if effective_at is not None and effective_at < now - EFFECTIVE_AT_GRACE:
            raise InvalidInput(
                "effective_at is in the past", {"effective_at": ["must not be in the past"]}
            )
        row = ConfigVersion(
            kind=kind,
            version=new_version,
            document=document,
            created_by=actor,
            created_at=now,
            effective_at=max(effective_at or now, now),
        )
        self.session.add(row)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "update" if previous else "create",
            kind,
            str(new_version),
            previous.document if previous else None,
            document,
        )
        return row

    def exchange_rates(self) -> ExchangeRates:
        """Return the active exchange rates (NotFound before `remedy init` seeded them)."""
        row = self.document(EXCHANGE_RATES)
        return load_exchange_rates({**row.document, "version": row.version})

    def seed_defaults(self, actor: str = "init") -> list[str]:
        """Store the bundled default documents where none exist yet; return the kinds seeded."""
        versions = self.active_versions()
        seeded = []
        for kind in DOCUMENT_KINDS:
            if kind not in versions:
                self.replace(kind, bundled.read_default(kind), actor)
                seeded.append(kind)
        return seeded


def _validate_alone(kind: str, document: dict[str, Any]) -> None:
    """Validate one document without its siblings (while seeding)."""
    loaders = {
        "catalog": load_catalog,
        "rules": load_rules,
        "caps": load_caps,
        EXCHANGE_RATES: load_exchange_rates,
    }
    loaders[kind](document)
