"""The lists of stages are made from the one transition table (orders/models.py), not kept
by hand beside it: what is finished, what is active, the paths and their steps, the board's
columns."""

from orders.models import (
    ACTIVE,
    BEFORE_KITCHEN,
    FINISHED,
    IN_PROGRESS,
    PATHS,
    PROMISE_MET,
    STEPS,
    Order,
)
from orders.models import Status as S
from staff.board.panels import COLUMNS


def leaves(status, fulfilment):
    order = Order(fulfilment=fulfilment, status=status)
    return {t.target for t in order.get_available_status_transitions()}


def test_finished_stages_are_exactly_those_no_move_leaves():
    no_way_on = {status for status in S.values if not any(leaves(status, kind) for kind in PATHS)}
    assert set(FINISHED) == no_way_on
    assert set(ACTIVE) == set(S.values) - no_way_on


def test_each_path_ends_finished_and_cancelling_leaves_every_active_stage():
    for kind, path in PATHS.items():
        assert path[-1] in FINISHED and not set(path[:-1]) & set(FINISHED)
        assert all(S.CANCELLED in leaves(stage, kind) for stage in path[:-1])


def test_the_board_has_a_column_per_active_step_and_shows_every_active_stage():
    assert [statuses for _, _, statuses in COLUMNS] == [list(step) for step in STEPS[:-1]]
    shown = {status for _, _, statuses in COLUMNS for status in statuses}
    assert shown == set(ACTIVE) - set(BEFORE_KITCHEN)
    assert COLUMNS[-1][1] == "Ready / On its way"


def test_before_the_kitchen_are_the_active_stages_no_path_has_and_they_lead_onto_one():
    on_paths = {stage for path in PATHS.values() for stage in path}
    assert set(BEFORE_KITCHEN) == set(ACTIVE) - on_paths == {S.AWAITING_PAYMENT}
    for kind, path in PATHS.items():
        assert leaves(S.AWAITING_PAYMENT, kind) == {path[0], S.CANCELLED}


def test_an_order_is_in_progress_until_its_promise_is_met():
    assert S.READY_FOR_PICKUP in PROMISE_MET and S.READY_FOR_PICKUP not in IN_PROGRESS
    assert S.OUT_FOR_DELIVERY in IN_PROGRESS and S.DELIVERED in PROMISE_MET
    assert set(IN_PROGRESS) == set(ACTIVE) - set(PROMISE_MET) - set(BEFORE_KITCHEN)
