"""The README's run command keeps the shop up when one of its processes dies.

Seen in an attack run: kill -9 of the telephony worker made `scripts/run` stop gunicorn and
every worker. Now each process runs under a supervisor that starts it again a second
later, and only a stop of the run command itself stops them all."""

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fixtures.pgcluster import free_port


def session_processes(session, needle):
    """Pids of processes in `session` whose command line holds `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ProcessLookupError):
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def answers(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def wait_for(condition, timeout, what, log):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the processes through /proc")
def test_a_worker_killed_by_kill_9_is_started_again_and_the_shop_keeps_answering(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(
        PORT=str(port),
        ENV_FILE="",
        DATABASE_URL=f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        TELEPHONY_SPOOL_DIR=str(tmp_path / "spool"),
        WEB_WORKERS="1",
    )
    log = tmp_path / "run.log"
    shop = subprocess.Popen(
        [str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: answers(port) == 200, 180, "the shop to answer", log)
        (worker,) = session_processes(shop.pid, "telephony_worker")
        os.kill(worker, signal.SIGKILL)

        wait_for(
            lambda: [p for p in session_processes(shop.pid, "telephony_worker") if p != worker],
            15, "a new telephony worker", log,
        )  # fmt: skip
        assert shop.poll() is None, log.read_text()[-3000:]  # the run command goes on
        assert answers(port) == 200
        assert "exited (137); starting it again" in log.read_text()
    finally:
        os.killpg(shop.pid, signal.SIGTERM)
        try:
            shop.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(shop.pid, signal.SIGKILL)
            shop.wait()
    wait_for(
        lambda: not session_processes(shop.pid, "manage.py")
        and not session_processes(shop.pid, "gunicorn"),
        15, "every process to stop", log,
    )  # fmt: skip
