"""What the commands that replay logged decisions share (`remedy whatif`, `remedy budgets
suggest-caps`): the day range they read from flags, and a what-if service on the app's scorer
whose progress shows as bars, closed with its session however the command ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from tqdm.auto import tqdm

from remedy.cli.common import current_or_new_app
from remedy.errors import DomainError
from remedy.extensions import db
from remedy.moments import read_moment
from remedy.services import app_services
from remedy.whatif.service import WhatIfService

Progress = Callable[[int], Callable[[int], Any]]


def day_range(start: str, end: str) -> tuple[datetime, datetime]:
    """Read --from and --to as UTC moments (a bad one is click's usage error)."""
    try:
        return read_moment(start), read_moment(end)
    except ValueError as error:  # MomentError is a ValueError
        raise click.BadParameter(str(error)) from None


@contextmanager
def whatif_service(workers: int, desc: str, unit: str) -> Iterator[tuple[WhatIfService, Progress]]:
    """Yield a what-if service on the app's scorer and a progress hook that draws a bar per
    replay; a domain error becomes click's error message. The session and the bars are closed
    at the end."""
    app = current_or_new_app()
    bars: list[Any] = []

    def progress(total: int) -> Callable[[int], Any]:
        bar = tqdm(total=total, desc=desc, unit=unit)
        bars.append(bar)
        return bar.update

    with app.app_context():
        session = db.database(app).sessions()
        try:
            scorer = app_services.scorer(app)(session)
            values = app_services.engines(app).values
            yield WhatIfService(session, scorer, values, workers), progress
        except DomainError as error:
            raise click.ClickException(f"{error.message}: {error.errors}") from None
        finally:
            session.close()
            for bar in bars:
                bar.close()
