"""The number of things waiting on the user, for the header of every page (我的待办)."""

from django.utils.functional import SimpleLazyObject

from .todo import takes_part, waiting_count


def waiting(request):
    """Lazy, both: nothing is looked up (not even who the user is, which reads the session)
    unless a page shows them; the error page shown while the database is away does not."""

    def shows() -> bool:
        user = getattr(request, "user", None)
        return user is not None and takes_part(user)

    return {
        "shows_todo": SimpleLazyObject(shows),
        "waiting_count": SimpleLazyObject(lambda: waiting_count(request.user) if shows() else 0),
    }
