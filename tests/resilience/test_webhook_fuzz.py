"""Bad input at scale: whatever a channel posts, the answer is the contract's (never a 500)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event

EXAMPLES = [
    load_event(f"channel/{name}.json")
    for name in (
        "member-identified",
        "order-paid",
        "order-refunded",
        "feedback-received",
        "points-activity",
        "leader-registered",
    )
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_events(draw):
    """A valid example with one field replaced by anything, or removed, or an extra field."""
    event = json.loads(json.dumps(draw(st.sampled_from(EXAMPLES))))
    paths = list(_paths(event))
    path = draw(st.sampled_from(paths))
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(["replace", "remove", "extra"]))
    if how == "replace":
        parent[path[-1]] = draw(JSON_VALUES)
    elif how == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(JSON_VALUES)
    return json.dumps(event, ensure_ascii=False).encode()


RAW_BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    mutated_events(),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=RAW_BODIES)
def test_every_malformed_webhook_gets_a_4xx_with_the_contract_body(stack, body):
    status, _, payload = stack.http(
        "POST",
        "/v1/channels/tmall/events",
        body=body,
        headers=stack.sign_channel_event("tmall", body),
    )
    assert status in (200, 202, 400, 403, 409, 413, 422), (status, payload)  # 403: D71
    if status >= 400:
        assert set(payload) == {"error"}
        assert {"code", "message", "details"} <= set(payload["error"])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5),
    path=st.sampled_from(
        [
            "/v1/members/mbr_00/unmerge",
            "/v1/members/mbr_00/redemptions",
            "/v1/tickets",
            "/v1/tickets/tkt_00/actions",
        ]
    ),
)
def test_every_malformed_staff_request_gets_a_4xx_with_the_contract_body(stack, body, path):
    status, _, payload = stack.http("POST", path, body=body, headers=stack.auth("admin"))
    assert 400 <= status < 500, (status, payload)
    assert set(payload) == {"error"}
