"""points-daily costs what is due, not what exists: DynamoDB requests of one run, counted with
botocore hooks, for N and 10N members holding points with the same number of orders due."""

from scripts.bench_points import requests_of_one_run


def test_ten_times_the_members_same_due_work_same_requests():
    small, large = requests_of_one_run(20, 5), requests_of_one_run(200, 5)
    assert small["requests"] == large["requests"]
    assert small["requests"]["Query"] == 32  # one page per shard and kind
    assert small["requests"]["TransactWriteItems"] == 5  # one per matured order
