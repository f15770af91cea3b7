"""The errors of the orders app's use cases (orders/services.py)."""


class OrderError(Exception):
    """Something a customer or staff member asked for that cannot be done; the message says
    why, in words fit to show them."""


class InvalidTransition(OrderError):
    """A status change the state machine refuses (or another change got there first)."""


class SoldOut(OrderError):
    """An order asks for what is sold out tonight (orders/soldout.py). `out`: the names of
    what is out; `instead`: names of what we have instead (for the first of them)."""

    def __init__(self, out, instead=()):
        super().__init__(f"Sold out tonight: {', '.join(out)}.")
        self.out, self.instead = list(out), list(instead)
