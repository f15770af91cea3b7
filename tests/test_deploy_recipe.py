"""The production recipe in deploy/, brought up the way it is written: the Procfile's processes
under honcho, behind nginx with TLS using deploy/nginx/ (`nginx -t` first), on PostgreSQL
and Redis, with the environment of deploy/pizzeria.env.example; then signed webhooks
through it. Only what a real server has differs: ports, certificate, paths, and Twilio
(a recording backend). Skipped, with the reason, where nginx is not installed (.ci/run
installs it)."""

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import urllib3
from twilio.request_validator import RequestValidator

from telephony.simulator import sms_params
from tests.fixtures.pgcluster import free_port
from tests.fixtures.recipe import (
    DEPLOY,
    UNITS,
    procfile,
    production_env,
    server_env,
    unit,
    unit_setting,
)
from tests.fixtures.redis import redis_url  # noqa: F401 (a fixture)
from tests.fixtures.workers import RECORDING_BACKEND, ROOT, SendRecord

HOST = "pizza.test"
TOKEN = "recipe-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "b" * 32

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def need(program):
    if not shutil.which(program):
        pytest.skip(f"{program} is not installed (apt-get install {program}; .ci/run does)")


class Site:
    """deploy/nginx/ as a server would have it, with this test's ports, certificate and
    paths put where the file says to replace them."""

    def __init__(self, folder, web_port):
        need("nginx")
        need("openssl")
        self.folder, self.http, self.https = folder, free_port(), free_port()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", f"/CN={HOST}", "-keyout", str(folder / "key.pem"),
             "-out", str(folder / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        shutil.copy(DEPLOY / "nginx" / "pizzeria_proxy.conf", folder / "pizzeria_proxy.conf")
        site = (DEPLOY / "nginx" / "pizzeria.conf").read_text()
        for old, new in (
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{web_port};"),
            ("listen 80;", f"listen 127.0.0.1:{self.http};"),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https} ssl http2;"),
            ("pizza.example.com", HOST),
            (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(folder / "cert.pem")),
            (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(folder / "key.pem")),
            ("/etc/nginx/pizzeria_proxy.conf", str(folder / "pizzeria_proxy.conf")),
            ("/var/www/html", str(folder)),
        ):
            assert old in site, f"deploy/nginx/pizzeria.conf no longer has {old!r}"
            site = site.replace(old, new)
        site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # no IPv6 in a sandbox
        (folder / "site.conf").write_text(site)
        (folder / "nginx.conf").write_text(
            f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
            f"  proxy_temp_path {folder}/proxy;\n  fastcgi_temp_path {folder}/fastcgi;\n"
            f"  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n"
            f"  include {folder}/site.conf;\n}}\n"
        )

    def command(self, *extra):
        return ["nginx", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), *extra]


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path, free_port())


def test_the_nginx_site_passes_nginx_t(site):
    checked = subprocess.run(site.command("-t"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


@pytest.mark.django_db(transaction=True)
def test_the_recipe_runs_behind_nginx_with_tls_on_postgresql_and_redis(
    postgres_database,
    redis_url,  # noqa: F811
    tmp_path,
):
    need("nginx")
    if not shutil.which("honcho", path=str(Path(sys.executable).parent)):
        pytest.skip("honcho is not installed (requirements-dev.txt)")
    web_port = free_port()
    site = Site(tmp_path, web_port)
    record = SendRecord(tmp_path / "sent.jsonl")
    public = f"https://{HOST}:{site.https}"
    env = production_env()
    env.update(
        SECRET_KEY="x" * 50, ALLOWED_HOSTS=HOST, CSRF_TRUSTED_ORIGINS=public,
        PUBLIC_BASE_URL=public, DATABASE_URL=postgres_database,
        TASK_BACKEND="django_tasks_redis.RedisTaskBackend", TASK_BROKER_URL=redis_url,
        TASK_WORKER="run_redis_tasks --continuous", PORT=str(web_port), RUN_DIR=str(tmp_path),
        WEB_WORKERS="2", TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN,
        TELEPHONY_BACKEND=RECORDING_BACKEND, TELEPHONY_RECORD_FILE=str(record.path),
        SHOP_HOURS="24/7", BACKUP_DIR=str(tmp_path / "backups"),
        METRICS_ALLOWED_NETWORKS="127.0.0.1/32", TELEPHONY_SPOOL_DIR=str(tmp_path / "spool"),
    )  # fmt: skip
    (tmp_path / "pizzeria.env").write_text("".join(f'{k}="{v}"\n' for k, v in env.items()))
    process_env = server_env(env)
    # As README "Deploying" says: migrate and collectstatic once per release, before the
    # processes start (staticfiles/ is the checkout's, ignored by git).
    for step in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, env=process_env, check=True,
            timeout=300,
        )  # fmt: skip
    checked = subprocess.run(site.command("-t"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(site.command("-g", "daemon off;"))
    log = (tmp_path / "honcho.log").open("w")
    honcho = subprocess.Popen(
        ["honcho", "start", "-f", str(DEPLOY / "Procfile"), "-d", str(ROOT),
         "-e", str(tmp_path / "pizzeria.env"), "--no-prefix"],
        cwd=ROOT, env=process_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    session = requests.Session()
    # Our own certificate, for pizza.test: not checked (per request: a session's verify
    # gives way to REQUESTS_CA_BUNDLE from the environment).
    session.request = functools.partial(session.request, verify=False)
    try:

        def get(path, **kwargs):
            return session.get(
                f"https://127.0.0.1:{site.https}{path}", headers={"Host": HOST}, timeout=10,
                allow_redirects=False, **kwargs,
            )  # fmt: skip

        # Generous: on CI's busy 2 cores, 4 processes and 2 gunicorn workers start at once.
        deadline, ready, last_error = time.monotonic() + 150, None, None
        while True:
            try:
                ready = get("/readyz")
                # Every process beating: two web, telephony, Redis task worker, late-order sweep.
                if ready.status_code == 200 and ready.json()["checks"]["workers"]["live"] >= 5:
                    break
            except requests.ConnectionError as exc:
                last_error = exc
            if honcho.poll() is not None or time.monotonic() > deadline:
                errors = (tmp_path / "error.log").read_text()[-2000:]
                last = ready.text[:500] if ready is not None else "no answer"
                pytest.fail(
                    f"never ready ({last}):\n{(tmp_path / 'honcho.log').read_text()[-3000:]}"
                    f"\nnginx ({nginx.poll()}): {errors} {last_error!r}"
                )
            time.sleep(0.5)

        # http is sent to https; Django sees https through X-Forwarded-Proto.
        plain = requests.get(
            f"http://127.0.0.1:{site.http}/", headers={"Host": HOST}, allow_redirects=False,
            timeout=10,
        )  # fmt: skip
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        assert get("/").status_code == 200

        params = {**sms_params("+14155550123", "MENU"), "AccountSid": ACCOUNT}
        signature = RequestValidator(TOKEN).compute_signature(f"{public}/twilio/sms/", params)
        answered = session.post(
            f"https://127.0.0.1:{site.https}/twilio/sms/", data=params, timeout=10,
            headers={"Host": HOST, "X-Twilio-Signature": signature},
        )  # fmt: skip
        assert answered.status_code == 200, answered.text
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["X-Request-ID"])  # nginx's
        forged = session.post(
            f"https://127.0.0.1:{site.https}/twilio/sms/", data=params, timeout=10,
            headers={"Host": HOST, "X-Twilio-Signature": "bad"},
        )  # fmt: skip
        assert forged.status_code == 403
        deadline = time.monotonic() + 60
        while not [e for e in record.sent if e["to"] == "+14155550123"]:
            assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()[-4000:]
            time.sleep(0.2)
        assert "MENU" in record.sent[0]["body"] or "menu" in record.sent[0]["body"].lower()
        assert get("/metrics").status_code == 200  # from this machine
    finally:
        stop_group(honcho)
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        log.close()


def stop_group(process):
    """SIGTERM to honcho and its processes (a graceful stop of each), SIGKILL after 40 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)
    except ProcessLookupError:
        process.wait()
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


_ = urllib3  # the warning filtered above is urllib3's


def test_the_systemd_units_run_what_the_procfile_runs():
    """The units and the Procfile are two ways to start the same processes: the test above
    runs the Procfile, so each unit must run the same command (paths aside)."""
    commands = procfile()
    for name, unit_name in UNITS.items():
        text = unit(name)
        start = unit_setting(name, "ExecStart")
        assert re.search(r"^Restart=(always|on-failure)$", text, re.M), unit_name
        assert "KillSignal=SIGTERM" in text and "EnvironmentFile=/etc/pizzeria/pizzeria.env" in text
        words = start.replace("/srv/pizzeria/.venv/bin/", "").split()
        expected = commands[name]
        expected = re.sub(r"\$\{TASK_WORKER:-([^}]+)\}", r"\1", expected)
        expected = re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", expected)
        assert words == expected.split(), (unit_name, words, expected.split())
