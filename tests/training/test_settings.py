import pytest

from tests.settings_process import start_settings as _start


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
