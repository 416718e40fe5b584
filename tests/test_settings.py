"""Settings are read from MOTCUA_ variables and checked before anything starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from motcua.settings import SettingsError, load_settings


def test_defaults_need_nothing_set():
    settings = load_settings({})
    assert settings.port == 8000 and settings.database_url is None


def test_values_are_read_and_typed():
    settings = load_settings(
        {
            "MOTCUA_PORT": "9001",
            "MOTCUA_PLATFORM_HOSTS": "a.vn,b.vn",
            "MOTCUA_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert settings.port == 9001
    assert settings.platform_hosts == ("a.vn", "b.vn")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MOTCUA_PORT": "eight"}, "MOTCUA_PORT"),
        ({"MOTCUA_PORT": "70000"}, "port"),
        ({"MOTCUA_LOG_LEVEL": "LOUD"}, "MOTCUA_LOG_LEVEL"),
        ({"MOTCUA_DATABASE_URL": "mysql://x/y"}, "database_url"),
        ({"MOTCUA_DATABASE_ROLE": "app; drop"}, "database_role"),
        ({"MOTCUA_PROVIDER_CONNECTIONS": "0"}, "provider_connections"),
    ],
)
def test_a_bad_value_is_one_clear_line(env, named):
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_command_line_stops_with_one_line_not_a_traceback(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "motcua.cli", "db", "upgrade"],
        env={"MOTCUA_PORT": "eight", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["motcua: MOTCUA_PORT: Expected `int`, got `str`"]
