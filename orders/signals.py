"""What other apps hear of an order, sent inside the transaction that did it (payments/
asks for a payment page when an order is placed, and refunds one cancelled after paying)."""

from django.dispatch import Signal

# order=the Order just placed.
order_placed = Signal()
# order=the Order just cancelled (locked, status already cancelled).
order_cancelled = Signal()
# order=an unpaid Order whose items and total the customer just changed.
order_changed = Signal()
