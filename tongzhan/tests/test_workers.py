"""The background worker: it outlives a database that goes away, and sweeps when it is back."""

import pytest
from django.db import OperationalError
from django_tasks_db.management.commands import db_worker as upstream

from tongzhan import workers


@pytest.fixture
def flaky(monkeypatch):
    """Upstream's loop fails with `errors` one after the other, then returns."""
    runs = []
    swept = []

    def run(errors):
        def upstream_run(self):
            runs.append(self.worker_id)
            if errors:
                raise errors.pop(0)

        monkeypatch.setattr(upstream.Worker, "run", upstream_run)
        workers.worker_make(batch=True, worker_id="test").run()

    monkeypatch.setattr(workers, "DATABASE_RETRY", 0)
    monkeypatch.setattr(workers.connections, "close_all", lambda: None)
    monkeypatch.setattr(workers, "_sweeps", [lambda: swept.append("swept")])
    return run, runs, swept


def test_a_worker_waits_for_a_database_that_went_away_and_sweeps_once_it_is_back(flaky):
    run, runs, swept = flaky
    run([OperationalError("server closed the connection unexpectedly")] * 2)
    assert runs == ["test"] * 3
    assert swept == ["swept"] * 3  # on start, and after each return of the database


def test_an_error_that_is_not_the_database_going_away_stops_the_worker(flaky):
    run, runs, swept = flaky
    with pytest.raises(ZeroDivisionError):
        run([ZeroDivisionError()])
    assert runs == ["test"]


def test_a_sweep_that_fails_is_logged_and_the_others_still_run(monkeypatch, caplog):
    swept = []

    def broken():
        raise ValueError("broken sweep")

    monkeypatch.setattr(workers, "_sweeps", [broken, lambda: swept.append("swept")])
    workers.worker_sweeps_run()
    assert swept == ["swept"] and "broken" in caplog.text
