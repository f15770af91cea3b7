"""The errors of the orders app's use cases (orders/services.py)."""


class OrderError(Exception):
    """Something a customer or staff member asked for that cannot be done; the message says
    why, in words fit to show them."""


class InvalidTransition(OrderError):
    """A status change the state machine refuses (or another change got there first)."""
