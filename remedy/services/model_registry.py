"""The model registry: versions stored in the database, promotion with an append-only log.

Artifacts are written by training (models/artifact.py: `model.skops` + `card.json` in a folder),
registered here as bytes, and materialised into a local cache folder by each worker before
loading, so every host serves the same, checksum-verified model. Loading goes through
`models.artifact.load_artifact`: skops with an allow-list of types, never pickle.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.artifact import CARD_FILE, MODEL_FILE, ModelLoadError, load_artifact, sha256_file
from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, PlanScorer
from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.metrics import MODEL_IN_USE
from remedy.store import audit, generation
from remedy.store.generation import GenerationCache
from remedy.store.tables import ModelPromotion, ModelVersion

log = logging.getLogger(__name__)
_UNKNOWN = object()
KEPT_SCORERS = 3  # the promoted model, a challenger, and the one just promoted or retired


class ModelRegistry:
    """Registers, lists, promotes and rolls back model versions."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def register(self, folder: Path | str, actor: str) -> ModelVersion:
        """Verify the artifact in `folder` and store it; the version comes from its card."""
        folder = Path(folder)
        try:
            artifact = load_artifact(folder)
        except ModelLoadError as error:
            raise InvalidInput(str(error), {"artifact": [str(error)]}) from None
        version = artifact.version
        if self.session.get(ModelVersion, version) is not None:
            raise Conflict(f"model version {version} is registered already")
        row = ModelVersion(
            version=version,
            created_by=actor,
            card=artifact.card,
            model_sha256=artifact.card["model_sha256"],
            artifact=(folder / MODEL_FILE).read_bytes(),
        )
        self.session.add(row)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "register",
            "model",
            version,
            None,
            {"model_sha256": row.model_sha256},
        )
        return row

    def versions(self) -> list[ModelVersion]:
        """Every version, newest first."""
        return list(
            self.session.scalars(
                sa.select(ModelVersion).order_by(
                    ModelVersion.created_at.desc(), ModelVersion.version.desc()
                )
            )
        )

    def promotions(self) -> list[ModelPromotion]:
        """Every promotion, newest first."""
        return list(
            self.session.scalars(sa.select(ModelPromotion).order_by(ModelPromotion.id.desc()))
        )

    def current(self) -> str | None:
        """The promoted version, if any (one indexed query)."""
        return self.session.scalar(
            sa.select(ModelPromotion.version).order_by(ModelPromotion.id.desc()).limit(1)
        )

    def get(self, version: str) -> ModelVersion:
        """Return a version or raise NotFound."""
        row = self.session.get(ModelVersion, version)
        if row is None:
            raise NotFound(f"no model version {version!r}")
        return row

    def promote(
        self, version: str, actor: str, reason: str = "", cache_dir: Path | None = None
    ) -> ModelPromotion:
        """Make `version` the model in use, after checking it loads."""
        row = self.get(version)
        if cache_dir is not None:
            try:
                load_artifact(materialise(row, cache_dir))
            except ModelLoadError as error:
                raise Conflict(f"model {version} cannot be loaded: {error}") from None
        previous = self.current()
        promotion = ModelPromotion(version=version, by=actor, reason=reason)
        self.session.add(promotion)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "promote",
            "model",
            version,
            {"version": previous},
            {"version": version, "reason": reason},
        )
        return promotion

    def rollback(
        self, actor: str, cache_dir: Path | None = None, reason: str = ""
    ) -> ModelPromotion:
        """Promote again the version that was in use before the current one; the promotion's
        reason says it was a rollback, and why when `reason` is given."""
        history = [p.version for p in self.promotions()]
        if not history:
            raise Conflict("no model has been promoted; nothing to roll back")
        earlier = next((v for v in history[1:] if v != history[0]), None)
        if earlier is None:
            raise Conflict(f"no earlier model than {history[0]} to roll back to")
        why = f"rollback from {history[0]}" + (f": {reason}" if reason else "")
        return self.promote(earlier, actor, why[:200], cache_dir)  # the column holds 200


BUNDLED = Path(__file__).resolve().parents[2] / "models" / "artifacts"


def version_order(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for version names: runs of digits compare as numbers (sim-2 < sim-10)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", name)
    )


def bundled_folders() -> list[Path]:
    """The model folders shipped with the code, oldest first (by version name)."""
    if not BUNDLED.is_dir():
        return []
    folders = (p for p in BUNDLED.iterdir() if (p / CARD_FILE).is_file())
    return sorted(folders, key=lambda p: version_order(p.name))


def seed_bundled(session: Session, cache_dir: Path, actor: str = "init") -> list[str]:
    """Register the bundled models not yet known; promote the newest if none is promoted."""
    registry = ModelRegistry(session)
    seeded = []
    for folder in bundled_folders():
        version = json.loads((folder / CARD_FILE).read_text())["version"]
        if session.get(ModelVersion, version) is None:
            registry.register(folder, actor)
            seeded.append(version)
    folders = bundled_folders()
    if folders and registry.current() is None:
        newest = json.loads((folders[-1] / CARD_FILE).read_text())["version"]
        registry.promote(newest, actor, "day-one model bundled with the service", cache_dir)
    return seeded


def materialise(row: ModelVersion, cache_dir: Path) -> Path:
    """Write a stored version into `cache_dir/<version>/` (once) and return the folder."""
    folder = Path(cache_dir) / row.version
    model_path = folder / MODEL_FILE
    if model_path.is_file() and sha256_file(model_path) == row.model_sha256:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{MODEL_FILE}.tmp"
    temporary.write_bytes(row.artifact)
    temporary.replace(model_path)
    (folder / CARD_FILE).write_text(json.dumps(row.card, indent=2) + "\n")
    return folder


class ScorerProvider:
    """Returns the scorer for a request: the promoted model, loaded once per version per worker.

    Which version is promoted is cached per cache generation (remedy/store/generation.py): a
    promotion or rollback moves the generation, so the next request in every worker asks again
    and gets the new model, without a restart; other requests ask nothing. A version that fails
    to load is logged and skipped: the worker keeps serving with what it had (or the prior).
    """

    def __init__(self, cache_dir: Path | str) -> None:
        """Cache artifacts under `cache_dir`."""
        self.cache_dir = Path(cache_dir)
        self._prior = HeuristicPrior()
        self._scorers: dict[str, PlanScorer] = {}
        self._failed: set[str] = set()
        self._current: PlanScorer = self._prior
        self._lock = threading.Lock()
        self._promoted = GenerationCache(max_entries=1)

    def promoted(self, session: Session) -> str | None:
        """The promoted version, asked once per cache generation."""
        current = generation.current(session)
        version = self._promoted.get(current, "version", _UNKNOWN)
        if version is _UNKNOWN:
            version = ModelRegistry(session).current()
            self._promoted.put(current, "version", version)
        return version

    def __call__(self, session: Session) -> PlanScorer:
        """Return the scorer of the promoted version."""
        version = self.promoted(session)
        if version is None:
            return self._prior
        return self._load(session, version, promoted=True)

    def of_version(self, session: Session, version: str) -> PlanScorer:
        """Return the scorer of any registered version (a challenger's), loaded once per worker;
        the heuristic prior for its own version name. A version that fails to load falls back to
        the promoted scorer (logged), so a decision is never refused for it."""
        if version == self._prior.version:
            return self._prior
        return self._load(session, version, promoted=False)

    def _load(self, session: Session, version: str, promoted: bool) -> PlanScorer:
        """Return the loaded scorer of `version` (loading it once); `promoted` makes it the
        one in use (the fallback when another version fails to load)."""
        scorer = self._scorers.get(version)
        if scorer is None:
            if version in self._failed:
                return self._current
            with self._lock:
                try:
                    row = ModelRegistry(session).get(version)
                    scorer = ModelScorer(load_artifact(materialise(row, self.cache_dir)))
                except (ModelLoadError, NotFound, OSError) as error:
                    log.error(
                        "cannot load model %s, keeping %s: %s",
                        version,
                        self._current.version,
                        error,
                    )
                    self._failed.add(version)
                    return self._current
                # The promoted model and a challenger or two: older versions are not asked for
                # again, so at most KEPT_SCORERS stay loaded (the oldest others dropped first).
                kept = dict(self._scorers)
                while len(kept) >= KEPT_SCORERS:
                    oldest = next(v for v, s in kept.items() if s is not self._current)
                    del kept[oldest]
                self._scorers = {**kept, version: scorer}
        if promoted and scorer is not self._current:
            self._current = scorer
            MODEL_IN_USE.clear()
            MODEL_IN_USE.labels(version).set(1)
        return scorer


def card_summary(row: ModelVersion) -> dict[str, Any]:
    """The parts of a card worth listing."""
    card = row.card
    return {
        "version": row.version,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "model_sha256": row.model_sha256,
        "sklearn_version": card.get("sklearn_version"),
        "training_window": card.get("training_window", {}),
        "metrics": card.get("metrics", {}),
    }
