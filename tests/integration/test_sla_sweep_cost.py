"""sla-escalation reads what is due, not what is open (issue 6): counted, not estimated."""

from scripts.bench_sla import requests_of_one_sweep


def test_ten_times_the_open_tickets_same_due_same_reads():
    few, many = requests_of_one_sweep(20, 20), requests_of_one_sweep(200, 20)
    assert few["requests"] == many["requests"]
    assert few["reads"] == 4 + 20  # one query per shard, one read per due ticket
    assert few["requests"]["TransactWriteItems"] == 20
