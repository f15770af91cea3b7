"""Twilio's own automatic replies to opt-out, opt-in and help keywords, as the customer's phone
shows them.

Twilio answers these words itself, before our webhook sees the text, so the replies are never
in our message log; the simulator adds them to its chat, marked as Twilio's, so staff and
developers see what the customer sees. The texts are Twilio's defaults (no Advanced Opt-Out).
"""

from telephony.reach import OPT_IN_WORDS, OPT_OUT_WORDS, is_opted_out, keyword

UNSUBSCRIBED = (
    "You have successfully been unsubscribed. You will not receive any more messages from "
    "this number. Reply START to resubscribe."
)
RESUBSCRIBED = (
    "You have successfully been re-subscribed to messages from this number. "
    "Reply STOP to unsubscribe."
)
HELP = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
HELP_WORDS = {"HELP", "INFO"}
YES = "YES"  # opts back in only a number that opted out (telephony.inbound does the same)


def lone_keyword(body):
    """The word Twilio acts on: the whole text is one word (\"STOP PLEASE\" is not)."""
    words = (body or "").split()
    if len(words) != 1:
        return ""
    return keyword(words[0])


def _opted_out_before(inbound_words, number):
    """Whether `number` had opted out before the first of the texts shown: read from the first
    STOP- or START-type word among them, else from the opt-out list now."""
    for word in inbound_words:
        if word in OPT_OUT_WORDS:
            return False
        if word in OPT_IN_WORDS:
            return True
    if any(word == YES or word in HELP_WORDS for word in inbound_words):
        return is_opted_out(number)
    return False


def twilio_replies(chat, number):
    """{message id: Twilio's automatic reply} for the inbound texts in `chat` (oldest first)
    that Twilio answers itself: a lone STOP-type word, START-type word (YES only when opted
    out), or HELP/INFO (not while opted out: Twilio stays silent to opted-out numbers)."""
    inbound = [(m.pk, lone_keyword(m.body)) for m in chat if m.direction == "in"]
    opted_out = _opted_out_before([word for _, word in inbound], number)
    replies = {}
    for pk, word in inbound:
        if word in OPT_OUT_WORDS:
            opted_out = True
            replies[pk] = UNSUBSCRIBED
        elif word in OPT_IN_WORDS or (word == YES and opted_out):
            opted_out = False
            replies[pk] = RESUBSCRIBED
        elif word in HELP_WORDS and not opted_out:
            replies[pk] = HELP
    return replies
