"""Workers page through a shard while the invocation has time, then hand over."""

from omnihub.consumer import TimeBudget


class Context:
    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def test_the_budget_says_stop_when_less_than_the_reserve_is_left():
    budget = TimeBudget(reserve_ms=30_000)
    assert budget.left()  # outside Lambda: no limit
    context = Context(120_000)
    budget.start(context)
    assert budget.left()
    context.remaining_ms = 29_999
    assert not budget.left()
