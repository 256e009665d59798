"""The event-log stream reaches the bus once per inserted row; refused entries are retried."""

import copy
import json

from omnihub import wiring
from tests.conftest import load_event


def record(sequence, event_id, detail):
    base = copy.deepcopy(load_event("dynamodb/event-log-insert.json")["Records"][0])
    image = base["dynamodb"]["NewImage"]
    image["pk"]["S"] = f"IN#tmall#{event_id}"
    image["detail"]["S"] = json.dumps(detail)
    base["dynamodb"]["SequenceNumber"] = sequence
    return base


def test_refused_entries_are_reported_for_retry_and_the_rest_published(stack, monkeypatch):
    sent = []

    class HalfRefused:
        def publish(self, entries):
            sent.extend(entries)
            return [i % 2 == 0 for i in range(len(entries))]

    monkeypatch.setattr(wiring, "publisher", lambda: HalfRefused())
    event = {"Records": [record(str(100 + n), f"e{n}", {"n": n}) for n in range(4)]}
    event["Records"].append({**event["Records"][0], "eventName": "REMOVE"})
    response = stack.runtime.invoke("OutboxForwarderFunction", event)
    assert response == {"batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "103"}]}
    assert len(sent) == 4  # the REMOVE (a TTL expiry) is not an event


def test_a_row_too_large_for_eventbridge_travels_as_a_reference(stack, monkeypatch):
    sent = []

    class Capture:
        def publish(self, entries):
            sent.extend(entries)
            return [True] * len(entries)

    monkeypatch.setattr(wiring, "publisher", lambda: Capture())
    big = {"channel": "tmall", "event_id": "huge", "type": "feedback.received", "x": "字" * 90_000}
    stack.runtime.invoke("OutboxForwarderFunction", {"Records": [record("7", "huge", big)]})
    (entry,) = sent
    assert json.loads(entry.detail) == {
        "event_log_key": "IN#tmall#huge",
        "channel": "tmall",
        "event_id": "huge",
        "type": "feedback.received",
    }
