"""The number of things waiting on the user, for the header of every page (我的待办)."""

from django.utils.functional import SimpleLazyObject

from .todo import takes_part, waiting_count


def waiting(request):
    user = getattr(request, "user", None)
    if user is None or not takes_part(user):
        return {}
    # Counted only when a page shows it (one query), not for every response.
    return {"waiting_count": SimpleLazyObject(lambda: waiting_count(user)), "shows_todo": True}
