"""Which settings the tests run on: pizzeria.test_settings, named in pyproject.toml; the
project's own settings are the same whether or not pytest is loaded."""

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import ROOT

SHOW = (
    "import json, sys; from django.conf import settings as s; "
    "json.dump([s.TELEPHONY_BACKEND, s.SHOP_HOURS, s.TASKS['default']['BACKEND']], sys.stdout)"
)


def settings_seen(module, *, before="", **env):
    """TELEPHONY_BACKEND, SHOP_HOURS and the task backend of `module`, read by a new process
    that runs `before` first, with only the given variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    clean = {k: v for k, v in clean.items() if k not in ("ENV_FILE", "SHOP_HOURS")}
    clean |= {"DJANGO_SETTINGS_MODULE": module, "ENV_FILE": "", **env}
    result = subprocess.run(
        [sys.executable, "-c", before + SHOW], cwd=ROOT, env=clean, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_suite_runs_on_the_test_settings():
    assert settings.SETTINGS_MODULE == "pizzeria.test_settings"
    assert settings.TELEPHONY_BACKEND == "locmem"


def test_the_project_settings_do_not_change_when_pytest_is_loaded():
    plain = settings_seen("pizzeria.settings")
    assert settings_seen("pizzeria.settings", before="import pytest; ") == plain
    assert plain[0] == "console"
    assert plain[2] == "django_tasks_db.DatabaseBackend"


def test_the_env_file_is_read_by_the_project_settings_and_never_by_the_tests(tmp_path):
    env_file = tmp_path / "settings.env"
    env_file.write_text("TELEPHONY_BACKEND=twilio\nSHOP_HOURS=mon 09:00-10:00\n")

    production = settings_seen("pizzeria.settings", ENV_FILE=str(env_file))
    tests = settings_seen("pizzeria.test_settings", ENV_FILE=str(env_file))

    assert production[:2] == ["twilio", "mon 09:00-10:00"]
    assert tests == ["locmem", "24/7", "django.tasks.backends.immediate.ImmediateBackend"]


def test_a_development_shop_without_hours_is_open_around_the_clock_for_every_command():
    """scripts/run, the phone simulator and simulate_sms read the same settings: one shop."""
    assert settings_seen("pizzeria.settings")[1] == "24/7"
    deployed = settings_seen("pizzeria.settings", DEBUG="false", SECRET_KEY="x" * 50)
    assert deployed[1] == "mon-thu 11:00-22:00; fri-sat 11:00-23:30; sun 12:00-21:00"
