#!/usr/bin/env bash
# Load test against gunicorn on PostgreSQL, loopback only, bounded in time:
#   benchmarks/load_test.sh [users=50] [minutes=3] [workers=5] [logins per second=10]
# The time may also be given as locust takes it (10s, 2m); `.ci/run` runs it tiny that way.
# Uses the benchmark database of benchmarks/dashboards.py (tongzhan_dash, 1,000,000 members;
# seed it first with that script) and locust from its own virtualenv ($LOCUST, default
# /tmp/locustenv/bin/locust: python3 -m venv /tmp/locustenv && /tmp/locustenv/bin/pip install -r benchmarks/load-requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-50}; RUN_TIME=${2:-3}; WORKERS=${3:-5}; SPAWN=${4:-10}
[[ $RUN_TIME =~ ^[0-9]+$ ]] && RUN_TIME="${RUN_TIME}m"  # a bare number is minutes
LOCUST=${LOCUST:-/tmp/locustenv/bin/locust}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tongzhan_dash}
export DJANGO_SETTINGS_MODULE=tongzhan.settings.local DJANGO_DEBUG=0
# Background tasks wait in the database for a db_worker (none runs here): not in gunicorn.
export STATIC_ROOT=${TMPDIR:-/tmp}/tongzhan-bench-static TASKS_IN_PROCESS=0
# Many simulated users log in from one address: allow it for the run.
export LOGIN_FAILURE_LIMIT=100000
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/gunicorn -c deploy/gunicorn.conf.py --workers "$WORKERS" --bind 127.0.0.1:8077 \
  tongzhan.wsgi:application --access-logfile /dev/null &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null' EXIT
for _ in $(seq 1 30); do curl -fs http://127.0.0.1:8077/health/ >/dev/null && break; sleep 1; done
"$LOCUST" -f benchmarks/locustfile.py --headless --host http://127.0.0.1:8077 \
  --users "$USERS" --spawn-rate "$SPAWN" --run-time "$RUN_TIME" --only-summary \
  --csv "${TMPDIR:-/tmp}/tongzhan-load"
