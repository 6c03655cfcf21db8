"""What-if replays: logged decisions under proposed caps, rules, catalog or pools vs current.

Reads only: the caller's session is rolled back at the end, so nothing is ever written. Each
logged incident is decided again by an engine built from the proposed (or current) documents and
the current ranker, with exploration off, and spending is simulated in time order against the
proposed (or current) pool limits and the caps' customer window and contact capacity (see
remedy/whatif/replay.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog.validation import DataFileError
from catalog.vocabulary import Vocabulary
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import PlanRanker, PlanScorer, ValueSettings
from remedy.decisions.record import incident_from_json
from remedy.errors import InvalidInput
from remedy.services.configs import KINDS, ActiveConfig, ConfigService, validate_set
from remedy.services.derived_currencies import derive_currencies
from remedy.store.scoping import in_team
from remedy.store.tables import Decision
from remedy.whatif.explain import curve_point, notes_for
from remedy.whatif.keys import KeyRange, Prepared
from remedy.whatif.parallel import decide_many, spend_many
from remedy.whatif.paths import get_path, set_path
from remedy.whatif.pool_limits import current_limits, proposed_limits
from remedy.whatif.replay import (
    MAX_SWEEP_POINTS,
    LoggedIncident,
    PoolLimits,
    ReplayReport,
    spend,
    substitute_with,
)
from remedy.whatif.scoring import CachingScorer


class WhatIfService:
    """Replays a date range of logged decisions under current and proposed settings."""

    def __init__(
        self,
        session: Session,
        scorer: PlanScorer | None,
        values: ValueSettings | None = None,
        workers: int = 1,
        max_incidents: int | None = None,
        team: str | None = None,
    ) -> None:
        """Read through `session`; score with `scorer` (the current ranker's; None: `check`
        only); decide in
        `workers` forked processes (1: in this one); refuse a range holding more than
        `max_incidents` logged incidents (None: no limit, as the CLI runs); replay
        only `team`'s decisions when given (a team-scoped key's what-if)."""
        self.team = team
        self.workers = workers
        self.max_incidents = max_incidents
        self.session = session
        self.scorer = CachingScorer(scorer) if scorer is not None else None
        self.values = values or ValueSettings()
        self._engines: dict[str, DecisionEngine] = {}

    def simulate(
        self,
        start: datetime,
        end: datetime,
        proposed: dict[str, Any] | None = None,
        pools: list[dict[str, Any]] | None = None,
        sweep: dict[str, Any] | None = None,
        progress: Callable[[int], Callable[[int], None]] | None = None,
    ) -> dict[str, Any]:
        """Return both reports (and the sweep curve); `progress(total)` gives an advance(n) hook."""
        if self.scorer is None:
            raise RuntimeError("a WhatIfService without a scorer only checks")
        try:
            return self._simulate(start, end, proposed or {}, pools, sweep, progress)
        finally:
            self.session.rollback()
            self.scorer.forget()

    def check(
        self,
        start: datetime,
        end: datetime,
        proposed: dict[str, Any] | None = None,
        pools: list[dict[str, Any]] | None = None,
        sweep: dict[str, Any] | None = None,
    ) -> None:
        """Refuse what `simulate` would refuse before deciding anything (InvalidInput naming the
        field), without replaying: the API checks a request this way before queueing its job."""
        for documents, label in self._settings(start, end, proposed or {}, sweep)[0]:
            self._validated(documents, label)
        proposed_limits(self.session, pools or [])

    def _settings(
        self,
        start: datetime,
        end: datetime,
        proposed: dict[str, Any],
        sweep: dict[str, Any] | None,
    ) -> tuple[list[tuple[dict[str, dict[str, Any]], str]], list[str]]:
        """Return the documents of every settings set replayed (current, proposed, each sweep
        point) with their labels, and the sweep's values."""
        if end <= start:
            raise InvalidInput("to must be after from", {"to": ["must be after from"]})
        current_docs = self._current_documents()
        proposed_docs = {**current_docs, **{k: v for k, v in proposed.items() if v is not None}}
        proposed_docs = {
            k: {**v, "version": current_docs[k]["version"]} for k, v in proposed_docs.items()
        }
        self._check_sweep(sweep, proposed_docs["caps"])
        sets = [(current_docs, "current"), (proposed_docs, "proposed")]
        values = list(sweep["values"]) if sweep else []
        for value in values:
            caps = set_path(proposed_docs["caps"], sweep["path"], value)  # type: ignore[index]
            sets.append(({**proposed_docs, "caps": caps}, f"sweep value {value}"))
        return sets, values

    def _simulate(
        self,
        start: datetime,
        end: datetime,
        proposed: dict[str, Any],
        pools: list[dict[str, Any]] | None,
        sweep: dict[str, Any] | None,
        progress: Callable[[int], Callable[[int], None]] | None,
    ) -> dict[str, Any]:
        replay = self.prepare(start, end, proposed, pools, sweep)
        self._check_size(start, end)
        logged = self.incidents(replay, start, end)
        return self.report(replay, logged, self.decide(replay, logged, progress))

    def prepare(
        self,
        start: datetime,
        end: datetime,
        proposed: dict[str, Any],
        pools: list[dict[str, Any]] | None,
        sweep: dict[str, Any] | None,
    ) -> Prepared:
        """Validate the request and build every settings set's engine and pool limits."""
        if self.scorer is None:
            raise RuntimeError("a WhatIfService without a scorer only checks")
        sets, values = self._settings(start, end, proposed, sweep)
        now = current_limits(self.session)
        proposed_now = {**now, **proposed_limits(self.session, pools or [])}
        engines = [self._engine(documents, label) for documents, label in sets]
        limits = [now] + [proposed_now] * (len(sets) - 1)
        return Prepared(start, end, sets, values, engines, limits, sweep, bool(pools))

    def incidents(
        self, replay: Prepared, start: datetime, end: datetime, keys: KeyRange | None = None
    ) -> list[LoggedIncident]:
        """The logged incidents of [start, end) (within `keys` when given), oldest first."""
        return self._incidents(start, end, replay.engines[0].catalog.vocabulary, keys)

    def decide(
        self,
        replay: Prepared,
        logged: list[LoggedIncident],
        progress: Callable[[int], Callable[[int], None]] | None = None,
    ) -> list[Any]:
        """Decide `logged` under every settings set (one list per set, in order)."""
        try:
            return self._decide(logged, replay.engines, progress)
        finally:
            self.scorer.forget()  # type: ignore[union-attr]

    def report(
        self, replay: Prepared, logged: list[LoggedIncident], decided: list[Any]
    ) -> dict[str, Any]:
        """Spend every settings set in time order and return the what-if's result."""
        start, end, sweep, values = replay.start, replay.end, replay.sweep, replay.values
        current_docs, proposed_docs = replay.sets[0][0], replay.sets[1][0]
        engines = replay.engines
        reports = spend_many(logged, decided, replay.limits, engines, self.workers)
        result = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "model": self.scorer.version,
            "current": reports[0],
            "proposed": reports[1],
        }
        if sweep:
            curve = [curve_point(v, r) for v, r in zip(values, reports[2:], strict=True)]
            today = get_path(proposed_docs["caps"], sweep["path"])
            result["sweep"] = {
                "path": sweep["path"],
                "current_value": None if today is None else str(today),
                "curve": curve,
            }
        result["notes"] = notes_for(
            result,
            engines[1].caps,
            current_docs["caps"],
            [entry.incident for entry in logged],
            pools_proposed=replay.pools_proposed,
        )
        return result

    def replay_caps(
        self,
        start: datetime,
        end: datetime,
        caps_documents: list[dict[str, Any]],
        keep: Callable[[LoggedIncident, PoolLimits], bool] | None = None,
        progress: Callable[[int], Callable[[int], None]] | None = None,
    ) -> list[ReplayReport]:
        """Replay [start, end) once per caps document (current catalog, rules and pools), only
        the incidents `keep` accepts; one report per document, in order. Rolls back."""
        try:
            current_docs = self._current_documents()
            limits = current_limits(self.session)
            engines = [
                self._engine({**current_docs, "caps": {**caps, "version": 1}}, f"caps {n}")
                for n, caps in enumerate(caps_documents)
            ]
            logged = self._incidents(start, end, engines[0].catalog.vocabulary)
            if keep is not None:
                logged = [entry for entry in logged if keep(entry, limits)]
            decided = self._decide(logged, engines, progress)
            return [
                spend(logged, d, limits, engine.caps, substitute_with(engine))
                for d, engine in zip(decided, engines, strict=True)
            ]
        finally:
            self.session.rollback()
            self.scorer.forget()

    def _decide(
        self,
        logged: list[LoggedIncident],
        engines: list[DecisionEngine],
        progress: Callable[[int], Callable[[int], None]] | None,
    ) -> list[Any]:
        """Decide every logged incident under every engine (ranked once per catalog and rules),
        reporting one step per incident and engine."""
        advance = progress(len(logged) * len(engines)) if progress else None
        return decide_many(
            [entry.incident for entry in logged],
            engines,
            self.scorer.forget,
            self.workers,
            advance,
            rank=self.scorer.ranked,
            rank_many=self.scorer.ranked_many,
        )

    def current_caps(self) -> dict[str, Any]:
        """Return the active caps document."""
        return self._current_documents()["caps"]

    def pool_limits(self) -> PoolLimits:
        """Return the pools in effect now, per team and currency."""
        return current_limits(self.session)

    def _current_documents(self) -> dict[str, dict[str, Any]]:
        configs = ConfigService(self.session)
        versions = configs.active_versions()
        missing = [kind for kind in KINDS if kind not in versions]
        if missing:
            raise InvalidInput(f"no {', '.join(missing)} loaded; run `remedy init`")
        return {kind: configs.document(kind, versions[kind]).document for kind in KINDS}

    def _engine(self, documents: dict[str, dict[str, Any]], label: str) -> DecisionEngine:
        """Validate and build an engine, cached per settings."""
        key = json.dumps(documents, sort_keys=True, default=str)
        engine = self._engines.get(key)
        if engine is None:
            rates = ConfigService(self.session).rates()
            if rates is not None:  # rated currencies decide as the service decides them
                documents = derive_currencies(documents, rates.per_usd)
            active = self._validated(documents, label)
            pricing = json.dumps([documents["catalog"], documents["rules"]], sort_keys=True)
            scorer = self.scorer.for_pricing(pricing)  # type: ignore[union-attr]
            engine = DecisionEngine(
                active.catalog, active.rules, active.caps, PlanRanker(scorer, self.values)
            )
            self._engines[key] = engine
        return engine

    @staticmethod
    def _validated(documents: dict[str, dict[str, Any]], label: str) -> ActiveConfig:
        """Validate a settings set like the PUTs do (InvalidInput naming the field)."""
        try:
            return validate_set(documents)
        except DataFileError as error:
            field = "sweep.values" if label.startswith("sweep") else str(error).split(":")[0]
            # A proposed caps document's fields are named as PUT /v1/caps names them.
            fields = {} if field != "caps" else {f"caps.{p}": m for p, m in error.fields.items()}
            raise InvalidInput(f"{label}: {error}", {field: [str(error)], **fields}) from None

    def _check_sweep(self, sweep: dict[str, Any] | None, caps: dict[str, Any]) -> None:
        if not sweep:
            return
        if len(sweep["values"]) > MAX_SWEEP_POINTS:
            raise InvalidInput(
                f"a sweep has at most {MAX_SWEEP_POINTS} points",
                {"sweep.values": [f"at most {MAX_SWEEP_POINTS} points"]},
            )
        try:
            set_path(caps, sweep["path"], None)
        except KeyError:
            raise InvalidInput(
                f"unknown sweep path {sweep['path']!r}",
                {"sweep.path": [f"{sweep['path']!r} is not a field of the caps document"]},
            ) from None

    def _check_size(self, start: datetime, end: datetime) -> None:
        """Refuse a range larger than a what-if job replays (the API's limit)."""
        if self.max_incidents is None:
            return
        count = self.session.scalar(
            sa.select(sa.func.count())
            .select_from(Decision)
            .where(Decision.created_at >= start, Decision.created_at < end)
        )
        if count > self.max_incidents:
            message = (
                f"the range holds {count:,} logged incidents; a replay through the API takes at "
                f"most {self.max_incidents:,}: narrow the range, or run `remedy whatif` for it"
            )
            raise InvalidInput(message, {"to": [message]})

    def _incidents(
        self,
        start: datetime,
        end: datetime,
        vocabulary: Vocabulary,
        keys: KeyRange | None = None,
    ) -> list[LoggedIncident]:
        """Load the logged incidents decided in [start, end), oldest first, each category in
        its canonical name (one logged before the vocabulary as a synonym is replayed as what
        it means; an unknown one as it was decided); within `keys` (a partition) when given."""
        query = (
            sa.select(Decision.created_at, Decision.incident)
            .where(Decision.created_at >= start, Decision.created_at < end)
            .where(in_team(self.team))
        )
        if keys is not None:
            query = query.where(keys.clause())
        rows = self.session.execute(
            query.order_by(Decision.created_at, Decision.id).execution_options(yield_per=1000)
        )
        return list(_logged(rows, vocabulary))


def _logged(rows: Any, vocabulary: Vocabulary) -> Iterator[LoggedIncident]:
    for at, data in rows:
        incident = incident_from_json(data)
        category = vocabulary.canonical_or_same(incident.category)
        if category != incident.category:
            incident = dataclasses.replace(incident, category=category)
        yield LoggedIncident(at, incident)
