"""CPU the shop burns doing nothing: every process `scripts/run` starts, idle, over a window.

Starts `scripts/run` (web, db_worker, telephony worker, late-order check) on a throwaway
database, waits until it says the shop is up and a few seconds more, then reads each
process's CPU time (utime + stime, /proc/<pid>/stat) at the start and end of the window.
Nothing is sent to it meanwhile. `--root` runs another checkout's scripts/run (to compare
a change with main) with this one's measuring code.

    bench/run idle [--seconds 60] [--root PATH] [--database-url URL]
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid):
    """Pids of every live process under `pid` (inclusive)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid):
    """(utime + stime in seconds, command line) of `pid`, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS, command.strip()


def role(command):
    for name in ("db_worker", "telephony_worker", "check_late_orders", "runserver"):
        if name in command:
            return name
    return command.split(" ")[0] or "?"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose scripts/run runs")
    parser.add_argument("--name", default="", help="results file suffix (idle-<db>[-name].json)")
    report.add_database_url(parser)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pizzeria-idle-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    database_url = args.database_url or f"sqlite:///{folder}/idle.sqlite3"
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (folder / "run.log").open("w+")
    run = subprocess.Popen(
        ["bash", "scripts/run"], cwd=args.root, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "the shop is at" not in (folder / "run.log").read_text(errors="replace"):
            if run.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((folder / "run.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        time.sleep(5)  # runserver and the workers finish starting
        before = {pid: cpu_seconds(pid) for pid in descendants(run.pid)}
        started = time.monotonic()
        load_before = os.getloadavg()
        time.sleep(args.seconds)
        window = time.monotonic() - started
        load_after = os.getloadavg()
        after = {pid: cpu_seconds(pid) for pid in descendants(run.pid)}
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
    processes = {}
    for pid, sample in after.items():
        if sample is None or before.get(pid) is None:
            continue
        name = role(sample[1])
        used = sample[0] - before[pid][0]
        processes[name] = round(processes.get(name, 0) + used / window * 100, 2)
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    result = {
        "benchmark": "idle",
        "database": vendor,
        "root": args.root,
        "window_s": round(window, 1),
        "cpu_percent_of_one_core": dict(sorted(processes.items())),
        "total_cpu_percent_of_one_core": round(sum(processes.values()), 2),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "machine": report.machine(),
    }
    suffix = f"-{args.name}" if args.name else ""
    report.save(f"idle-{vendor}{suffix}", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
