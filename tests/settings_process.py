"""Start the settings in a fresh process, as a server would, to see them accept or
refuse an environment (pytest's own process has them loaded already)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_settings(
    env: dict[str, str], *, code: str = "", drop: tuple[str, ...] = ("DEBUG", "SECRET_KEY")
) -> subprocess.CompletedProcess:
    """`django.setup()` (then `code`) with this environment less the variables whose
    names start with any of `drop`, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "training.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
