"""Request ids: one per request, in the response header, in every log line of the request
and on the error page, so a user can quote it and it can be found.

Its own module without models, as the logging configuration imports it before Django's apps
are ready.
"""

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_TRUSTED_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RequestIdMiddleware:
    """An `X-Request-ID` set by the reverse proxy is kept when it looks like an id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if _TRUSTED_ID.match(given) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response.headers["X-Request-ID"] = request.id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id_var.get()
        return True
