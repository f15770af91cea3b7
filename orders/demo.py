"""Demo data of the orders app (menu), loaded by `manage.py seed_demo`."""


def seed(stdout):
    """Create the demo menu if missing. Must be idempotent."""
