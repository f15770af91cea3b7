"""The production settings the README documents pass Django's deployment checklist."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env():
    """The variables of the README's "Deploying" block, as documented."""
    block = re.search(r"```sh\n# production\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md lost its '# production' settings block"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    for line in block.group(1).splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    env["SECRET_KEY"] = "x" * 20 + "-a-long-random-production-secret-for-the-check-" + "y" * 20
    return env


def test_check_deploy_passes_with_the_documented_production_settings(tmp_path):
    env = production_env()
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_debug_is_left_on(tmp_path):
    env = production_env() | {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def installed_apps_and_phone_url(env):
    """What the settings `env` installs, and what /dev/phone/ resolves to, in a fresh process."""
    script = (
        "import django; django.setup(); from django.apps import apps; from django.urls import"
        " resolve, Resolver404\ntry: resolve('/dev/phone/'); print('phone: served')\n"
        "except Resolver404: print('phone: not found')\n"
        "print('simulator installed' if apps.is_installed('simulator') else 'no simulator')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env | {"DJANGO_SETTINGS_MODULE":
        "pizzeria.settings"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_production_does_not_install_the_phone_simulator(tmp_path):
    out = installed_apps_and_phone_url(production_env())
    assert "no simulator" in out and "phone: not found" in out


def test_the_phone_simulator_is_installed_where_it_is_turned_on(tmp_path):
    out = installed_apps_and_phone_url(production_env() | {"PHONE_SIMULATOR_ENABLED": "true"})
    assert "simulator installed" in out and "phone: served" in out


def scaling_out_rows():
    """{role: command} from the README's "Scaling out" table."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| ([a-z -]+) \| (`[^|]*`[^|]*)\|", text, re.M)
    return {role.strip(): command for role, command in rows}


def test_the_documented_processes_fit_postgresqls_default_connection_limit():
    """Seen in a production run: at the defaults the README's processes could ask for about
    102 connections against PostgreSQL's default 100. Each role's command now caps its pool
    at what it uses at once, and the README's sum for its example layout holds."""
    rows = scaling_out_rows()
    pool = {
        role: int(re.search(r"DATABASE_POOL_MAX_SIZE=(\d+)", command).group(1))
        for role, command in rows.items()
        if "DATABASE_POOL_MAX_SIZE=" in command
    }
    threads = int(re.search(r"--threads (\d+)", rows["web"]).group(1))
    assert pool["web"] == threads  # one connection per thread, no more
    # The README's example: 5 web workers, 2 task workers, 2 telephony workers (each with
    # its LISTEN connection outside the pool) and the late-order sweep.
    total = 5 * pool["web"] + 2 * pool["worker"] + 2 * (pool["telephony worker"] + 1)
    total += pool["late-order sweep"]
    assert total == 54 and total <= 100 - 10  # room for migrate, a shell, monitoring
    assert "= 54" in (ROOT / "README.md").read_text()


def test_gunicorn_listens_on_loopback_with_a_control_socket_of_its_own():
    readme = (ROOT / "README.md").read_text()
    run = (ROOT / "scripts" / "run").read_text().replace("\\\n", " ")  # continued lines
    commands = re.findall(r"`[^`]*(gunicorn pizzeria\.wsgi[^`]*)`", readme)
    commands += re.findall(r"(gunicorn pizzeria\.wsgi[^\n]*)", run)
    assert len(commands) >= 3  # the table's, the deploy steps', scripts/run's
    for command in commands:
        command = " ".join(command.split())
        assert re.search(r"--bind \"?127\.0\.0\.1:", command), command
        assert "--control-socket" in command, command
