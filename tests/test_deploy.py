"""The deployment files keep full numbers out of the servers' logs: a search by ID number or
phone is a GET (`?q=...`), so neither access log may write a query string."""

import re
import runpy
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_gunicorn_logs_the_path_without_its_query_string():
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    log_format = settings["access_log_format"]
    assert "%(U)s" in log_format
    # %(r)s is the request line with its query, %(q)s the query, %(f)s the referer (a page's
    # address with its query), %({...}i)s any header but the request id.
    assert not re.search(r"%\((r|q|f|a)\)s", log_format)
    assert re.findall(r"%\(\{([^}]*)\}i\)s", log_format) == ["x-request-id"]


def test_nginx_logs_with_a_format_without_the_query_string():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    logs = re.findall(r"^\s*access_log\s+([^;]+);", conf, flags=re.MULTILINE)
    assert logs and all(log == "off" or log.endswith(" tongzhan") for log in logs)
    # Each server writes with it (nginx's default "combined" keeps $request and the referer).
    assert conf.count("server {") == len([log for log in logs if log != "off"])
    log_format = re.search(r"log_format tongzhan (.*?);", conf, flags=re.DOTALL).group(1)
    assert "$uri" in log_format
    for keeps_the_query in ("$request ", '$request"', "$request_uri", "$args", "$query_string",
                            "$http_referer", "$is_args"):  # fmt: skip
        assert keeps_the_query not in log_format, keeps_the_query
    # And the redirect to https does not carry a search along either.
    assert "$request_uri" not in conf
