"""Is PostgreSQL / Redis / Chromium here? Each answers None or what is missing."""

import os
import shutil
import socket
from urllib.parse import urlparse

from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def services_missing() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://… (now SQLite)"
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        return "needs Redis: set CELERY_BROKER_URL=redis://… (now unset: eager Celery)"
    url = urlparse(broker)
    if not _reachable(url.hostname or "127.0.0.1", url.port or 6379):
        return f"Redis at {url.hostname}:{url.port or 6379} does not answer"
    return None


def browser_missing() -> str | None:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright Python package"
    return None
