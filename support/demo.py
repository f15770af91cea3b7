"""Demo data of the support app (agents on shift), loaded by `manage.py seed_demo`."""


def seed(stdout):
    """Create the demo agents if missing. Must be idempotent."""
