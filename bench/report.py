"""What every benchmark records beside its figures: the machine, and where the JSON goes."""

import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def add_database_url(parser):
    """--database-url: only a database named for benchmarks, never DATABASE_URL."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a database it may fill; default: a temporary SQLite file "
        "(scripts/with-postgres sets BENCH_DATABASE_URL to its throwaway cluster)",
    )


def machine():
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def save(name, result):
    """Write `result` to bench/results/<name>.json; returns the path."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return out
