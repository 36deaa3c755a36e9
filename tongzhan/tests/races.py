"""Two writes at the same moment, on two connections, for the tests of what an attacker (or an
unlucky moment) tries: `first` runs in a thread until it calls `pause()` (a service's step,
patched with `pause_after`) inside its transaction with its row locks held; then `second`
in another thread until it ends or waits for a row lock; then `first` goes on. PostgreSQL
READ COMMITTED, as in production.

    @pytest.fixture
    def race():
        return race_or_skip()

A test using it is marked `django_db(transaction=True, serialized_rollback=True)`: the two
threads see only what is committed.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection


class Race:
    def __init__(self):
        self.paused, self.go = threading.Event(), threading.Event()
        self.first_thread = None

    def pause(self):
        if threading.current_thread() is self.first_thread and not self.paused.is_set():
            self.paused.set()
            self.go.wait(10)

    def pause_after(self, monkeypatch, module, name: str) -> None:
        """Patch `module.name` (a service's step) to pause the first write once it returns."""
        step = getattr(module, name)

        def step_then_pause(*args, **kwargs):
            result = step(*args, **kwargs)
            self.pause()
            return result

        monkeypatch.setattr(module, name, step_then_pause)

    def run(self, first, second) -> dict:
        """Run the two; what each returned or raised, by "first" and "second"."""
        outcome = {}

        def body(name, call):
            try:
                outcome[name] = call()
            except Exception as error:  # noqa: BLE001  (told to the test)
                outcome[name] = error
            finally:
                connection.close()

        one = threading.Thread(target=body, args=("first", first))
        two = threading.Thread(target=body, args=("second", second))
        self.first_thread = one
        one.start()
        assert self.paused.wait(10), outcome.get("first")
        two.start()
        waited = time.monotonic() + 10
        while two.is_alive() and time.monotonic() < waited and not self._someone_waits():
            time.sleep(0.05)
        self.go.set()
        one.join(20)
        two.join(20)
        return outcome

    @staticmethod
    def _someone_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0


def race_or_skip() -> Race:
    """A new race; the test is skipped on a database without PostgreSQL's row locks."""
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    return Race()


def refused_or_done(outcome) -> None:
    """Each write of a race either done or refused in words: never a database error."""
    for name, result in outcome.items():
        assert not isinstance(result, Exception) or isinstance(result, ValidationError), (
            f"{name}: {result!r}"
        )
