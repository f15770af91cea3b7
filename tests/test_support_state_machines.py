"""The support line's three state machines (calls, agent offers, voice notices): each
listed move is made by its model's one door, each unlisted one is refused."""

from itertools import product

import pytest
from django.db import transaction

from support.models import (
    ACTIVE_OFFER_STATUSES,
    CALL_FINISHED,
    CALL_HOLDING,
    OFFER_RINGING,
    AgentOffer,
    CallEvent,
    InvalidStatus,
    SupportCall,
    VoiceNotice,
)

from .factories import AgentFactory, SupportCallFactory

C = SupportCall.Status
CALL_MOVES = {
    (C.IN_MENU, C.WAITING), (C.IN_MENU, C.VOICEMAIL), (C.IN_MENU, C.ABANDONED),
    (C.IN_MENU, C.COMPLETED),
    (C.WAITING, C.RINGING_AGENT), (C.WAITING, C.VOICEMAIL), (C.WAITING, C.ABANDONED),
    (C.WAITING, C.CALL_BACK),
    (C.RINGING_AGENT, C.CONNECTED), (C.RINGING_AGENT, C.VOICEMAIL),
    (C.RINGING_AGENT, C.ABANDONED), (C.RINGING_AGENT, C.WAITING), (C.RINGING_AGENT, C.CALL_BACK),
    (C.CONNECTED, C.COMPLETED),
    (C.VOICEMAIL, C.COMPLETED),
}  # fmt: skip

OS = AgentOffer.Status
NOT_ANSWERED = [OS.NO_ANSWER, OS.BUSY, OS.FAILED, OS.CANCELED]
OFFER_MOVES = {
    (OS.PLACING, OS.RINGING), (OS.PLACING, OS.ANSWERED),
    *((OS.PLACING, outcome) for outcome in NOT_ANSWERED),
    (OS.RINGING, OS.ANSWERED),
    *((OS.RINGING, outcome) for outcome in NOT_ANSWERED),
    (OS.ANSWERED, OS.COMPLETED),
}  # fmt: skip

N = VoiceNotice.Status
ENDINGS = [N.COMPLETED, N.BUSY, N.NO_ANSWER, N.FAILED, N.CANCELED]
STAGES = [N.QUEUED, N.INITIATED, N.RINGING, N.IN_PROGRESS]
NOTICE_MOVES = {
    *((earlier, later) for i, earlier in enumerate(STAGES) for later in STAGES[i + 1 :]),
    *((stage, ending) for stage in STAGES for ending in ENDINGS),
}


def cases(statuses, allowed):
    return [(a, b, (a, b) in allowed) for a, b in product(statuses, statuses)]


def ids(cases):
    return [f"{a}-to-{b}-{'ok' if ok else 'refused'}" for a, b, ok in cases]


CALL_CASES = cases(list(C), CALL_MOVES)
OFFER_CASES = cases(list(OS), OFFER_MOVES)
NOTICE_CASES = cases(list(N), NOTICE_MOVES)


@pytest.mark.parametrize("source, target, allowed", CALL_CASES, ids=ids(CALL_CASES))
def test_every_call_move_is_allowed_or_refused_as_specified(db, source, target, allowed):
    call = SupportCallFactory(status=source)
    with transaction.atomic():
        call = SupportCall.objects.select_for_update().get(pk=call.pk)
        if allowed:
            call.move(target, CallEvent.Kind.HUNG_UP)
        else:
            with pytest.raises(InvalidStatus):
                call.move(target, CallEvent.Kind.HUNG_UP)
    call.refresh_from_db()
    assert call.status == (target if allowed else source)
    events = list(call.events.values_list("kind", "detail"))
    assert events == ([("hung up", {"previous": source})] if allowed else [])


@pytest.mark.parametrize("source, target, allowed", OFFER_CASES, ids=ids(OFFER_CASES))
def test_every_offer_move_is_allowed_or_refused_as_specified(db, source, target, allowed):
    offer = AgentOffer.objects.create(
        call=SupportCallFactory(), agent=AgentFactory(), status=source
    )
    with transaction.atomic():
        offer = AgentOffer.objects.select_for_update().get(pk=offer.pk)
        if allowed:
            offer.move(target, CallEvent.Kind.AGENT_CALL_CANCELED)
        else:
            with pytest.raises(InvalidStatus):
                offer.move(target, CallEvent.Kind.AGENT_CALL_CANCELED)
    offer.refresh_from_db()
    assert offer.status == (target if allowed else source)
    events = list(CallEvent.objects.values_list("kind", "agent", "detail"))
    expected = ("agent call canceled", offer.agent_id, {"offer": offer.pk, "previous": source})
    assert events == ([expected] if allowed else [])


@pytest.mark.parametrize("source, target, allowed", NOTICE_CASES, ids=ids(NOTICE_CASES))
def test_every_notice_move_is_allowed_or_refused_as_specified(db, source, target, allowed):
    notice = VoiceNotice.objects.create(to_number="+14155550123", message="Hi", status=source)
    with transaction.atomic():
        notice = VoiceNotice.objects.select_for_update().get(pk=notice.pk)
        if allowed:
            notice.move(target)
        else:
            with pytest.raises(InvalidStatus):
                notice.move(target)
    notice.refresh_from_db()
    assert notice.status == (target if allowed else source)


def test_the_status_groups_are_read_off_the_pipelines():
    assert {C.ABANDONED, C.CALL_BACK, C.COMPLETED} == CALL_FINISHED
    assert {C.WAITING, C.RINGING_AGENT} == CALL_HOLDING
    assert {OS.PLACING, OS.RINGING} == OFFER_RINGING
    assert {OS.PLACING, OS.RINGING, OS.ANSWERED} == ACTIVE_OFFER_STATUSES


def test_a_notice_with_a_status_from_before_the_choices_moves_nowhere(db):
    notice = VoiceNotice.objects.create(to_number="+14155550123", message="Hi", status="odd")
    assert not notice.may_move_to(N.COMPLETED)


@pytest.mark.parametrize(
    "status, stamp", [(C.WAITING, "waiting_since"), (C.CONNECTED, "answered_at")]
)
def test_a_call_move_stamps_when_it_began_waiting_or_was_answered(db, status, stamp):
    source = C.IN_MENU if status == C.WAITING else C.RINGING_AGENT
    call = SupportCallFactory(status=source)
    call.move(status, CallEvent.Kind.WAITING)
    call.refresh_from_db()
    assert getattr(call, stamp) is not None and call.ended_at is None


@pytest.mark.parametrize("status", [C.ABANDONED, C.COMPLETED])
def test_a_call_that_finishes_is_stamped_ended(db, status):
    call = SupportCallFactory(status=C.IN_MENU)
    call.move(status, CallEvent.Kind.ABANDONED)
    call.refresh_from_db()
    assert call.ended_at is not None
