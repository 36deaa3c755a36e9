"""gunicorn for tongzhan: `gunicorn -c deploy/gunicorn.conf.py tongzhan.wsgi:application`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, two per core and one more: requests are short and use the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 120  # a large export may take a while; nginx waits as long
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# The path without its query string: a search by ID number or phone (?q=...) is a GET, and
# the log is no place for a full number (tests/test_deploy.py).
access_log_format = '%(h)s %({x-request-id}i)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
