"""Demo data of the support app (agents on shift), loaded by `manage.py seed_demo`."""

from .models import Agent

DEMO_AGENTS = [
    # 555-01xx numbers are reserved for fiction.
    {"phone": "+12025550101", "name": "Maria (demo)", "priority": 1},
    {"phone": "+12025550102", "name": "Luca (demo)", "priority": 2},
]


def seed(stdout):
    """Create the demo agents if missing. Must be idempotent."""
    created = 0
    for fields in DEMO_AGENTS:
        _, new = Agent.objects.get_or_create(
            phone=fields["phone"],
            defaults={"name": fields["name"], "priority": fields["priority"], "on_shift": True},
        )
        created += new
    if created:
        stdout.write(f"Support: {created} demo agent(s) on shift.")
