"""Use cases of the orders app, one import for its callers (the conversation, the admin, the
board, the support line): each is defined in the module that holds its kind, and only
re-exported here.

- `orders/billing.py`: the bill, the delivery area and minimum, the kitchen's time;
- `orders/quotes.py`: customers, questions we asked them, quotes and placing;
- `orders/moves.py`: the state machine's one door (advance, cancel, notify) and running late;
- `orders/inbox.py`: texts kept for staff and their answers.
"""

from .billing import (
    BelowDeliveryMinimum,
    Bill,
    OutsideDeliveryArea,
    check_delivery,
    prep_minutes,
    schedule,
    zip_code,
)
from .errors import (
    InvalidTransition,
    OrderError,
    SoldOut,
)
from .inbox import (
    answer_inquiry,
    flag_opt_out,
    keep_unanswered,
    latest_active_orders,
    link_message,
    record_inquiry,
)
from .moves import (
    Moved,
    StageMove,
    advance_order,
    allowed_moves,
    cancel_order,
    check_late_orders,
    delay_order,
    late_orders,
    next_status,
    notify_customer,
    stage_moves,
    transition_target,
)
from .quotes import (
    DealRefused,
    ask_question,
    change_order,
    customer_for,
    deal_discount,
    forget_question,
    latest_quote,
    menu,
    order_lines,
    pending_quote,
    place_order,
    question_asked,
    quote_order,
    quote_reorder,
    remember_language,
    withdraw_quote,
)

__all__ = [
    "OrderError",
    "InvalidTransition",
    "SoldOut",
    "OutsideDeliveryArea",
    "BelowDeliveryMinimum",
    "Bill",
    "zip_code",
    "check_delivery",
    "prep_minutes",
    "schedule",
    "customer_for",
    "ask_question",
    "question_asked",
    "forget_question",
    "remember_language",
    "menu",
    "DealRefused",
    "deal_discount",
    "quote_order",
    "withdraw_quote",
    "pending_quote",
    "quote_reorder",
    "latest_quote",
    "place_order",
    "change_order",
    "order_lines",
    "Moved",
    "StageMove",
    "stage_moves",
    "transition_target",
    "allowed_moves",
    "next_status",
    "advance_order",
    "cancel_order",
    "notify_customer",
    "delay_order",
    "late_orders",
    "check_late_orders",
    "record_inquiry",
    "keep_unanswered",
    "flag_opt_out",
    "answer_inquiry",
    "link_message",
    "latest_active_orders",
]
