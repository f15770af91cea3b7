"""The customer's SMS conversation (placeholder until the ordering issue lands)."""


def handle_customer_sms(message):
    return None
