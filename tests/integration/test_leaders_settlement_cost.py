"""The T+1 run costs what is active that day: DynamoDB requests of one commission-settlement run,
counted with botocore hooks on the handlers' client, for 10 active leaders with 100 orders, alone
and among more leaders with settled history (scripts/bench_settlement.py runs 10,000 / 100,000)."""

from scripts.bench_settlement import measure


def test_one_run_for_10_active_leaders_and_100_orders_does_not_grow_with_history():
    alone = measure(leaders=10, history=0, active=10, orders_total=100, quiet=True)
    among = measure(leaders=100, history=1_000, active=10, orders_total=100, quiet=True)
    print(f"\ncommission-settlement requests, alone: {alone}\namong history: {among}")
    assert alone["settled"] == among["settled"] == 10
    # floor(11,980 x 5%) + floor(4,000 x 5%) = 599 + 200 per order
    assert alone["earned_fen"] == among["earned_fen"] == 100 * 799
    assert alone["requests"] == among["requests"]
    # per shard: PutItem its run-started marker, Query the active index; per active leader:
    # GetItem account, UpdateItem closing the day (it answers the day), Query its earlier days
    # and the day's entries, one transaction
    assert alone["requests"] == {
        "PutItem": 16,
        "Query": 16 + 2 * 10,
        "GetItem": 10,
        "UpdateItem": 10,
        "TransactWriteItems": 10,
    }
