"""What the benchmark scripts share: Django set up as production runs it."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str) -> None:
    """Django with the local settings on `database_url` (unless DATABASE_URL says), DEBUG off.

    Production runs without DEBUG; with it every query is also kept in memory and logged,
    which would be measured. Without DEBUG, static files come from a manifest in STATIC_ROOT.
    """
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongzhan.settings.local"
    os.environ.setdefault("DATABASE_URL", database_url)
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "tongzhan-bench-static"))
    import django

    django.setup()
