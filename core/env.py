"""Strict parsing of settings from the environment.

A bad value stops the process at start with a message naming the variable, instead
of surfacing later as a confusing runtime error.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {raw!r}.")
    return value


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {raw!r}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_hours_list(name: str, default: list[int]) -> list[int]:
    """Comma-separated positive whole hours, largest first (e.g. "72,24")."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return sorted(set(default), reverse=True)
    try:
        values = {int(item) for item in raw.split(",") if item.strip()}
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be whole hours like 72,24, not {raw!r}.") from None
    if not values or min(values) <= 0:
        raise ImproperlyConfigured(f"{name} must list positive hours like 72,24, not {raw!r}.")
    return sorted(values, reverse=True)


_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF reads it: a positive count per period, e.g. "600/min"."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    count, _, period = raw.strip().partition("/")
    if not count.isdigit() or int(count) <= 0 or period not in _PERIODS:
        raise ImproperlyConfigured(
            f"{name} must be a count per period like 600/min (s, min, hour, day), not {raw!r}."
        )
    return raw.strip()


def env_cache_url(name: str) -> str:
    """A Redis URL for the shared cache, or empty."""
    raw = os.environ.get(name, "").strip()
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name} must be a redis:// URL, not {raw!r}.")
    return raw


def env_map(name: str) -> dict[str, str]:
    """A mapping from the environment: a JSON object of strings
    ({"okta-android": "android"}) or `key=value,key=value` (for keys without commas)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        import json

        try:
            value = json.loads(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} is not valid JSON: {raw!r}.") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
        ):
            raise ImproperlyConfigured(f"{name} must be a JSON object of strings to strings.")
        return value
    result: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(
                f"{name} must be GROUP=TEAM pairs separated by commas (or a JSON object), "
                f"not {raw!r}."
            )
        result[key.strip()] = value.strip()
    return result


def env_url(name: str) -> str:
    """An http(s) URL, or empty."""
    raw = os.environ.get(name, "").strip()
    if raw and not raw.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"{name} must be an http(s):// URL, not {raw!r}.")
    return raw
