import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "training.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x" * 50, "DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"SECRET_KEY": "x" * 50, "PREFLIGHT_MIN_COMPLETION": "1.5"}, "PREFLIGHT_MIN_COMPLETION"),
        ({"SECRET_KEY": "x" * 50, "PREFLIGHT_DUE_LEAD_HOURS": "two"}, "PREFLIGHT_DUE_LEAD_HOURS"),
    ],
)
def test_a_bad_or_missing_setting_stops_the_process_with_a_message_naming_it(env, message):
    result = _start(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_start_with_a_secret_key_and_nothing_else():
    result = _start({"SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr
