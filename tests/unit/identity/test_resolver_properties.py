"""Property: whatever the order, duplication and interleaving of identity events, the members
found are the connected components of the merge-capable identities (within the limits); a
device two people share joins nobody to anybody."""

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnihub.clock import VirtualClock
from omnihub.errors import ConcurrentChange
from omnihub.identity.resolver import (
    ResolveRequest,
    load_snapshot,
    plan,
    resolve,
    usable_identities,
)
from omnihub.identity.types import rule
from tests.fakes.identities import MEMBER_IDS, ident
from tests.fakes.member_store import FakeMemberStore

T0 = datetime(2026, 11, 11, tzinfo=UTC)

# Each person's identities stay within the per-type limits, so no merge is ever refused.
# People 0 and 1 share the family tablet (an attach-only identity).
SHARED_DEVICE = ("device_id", "tablet-family")
PEOPLE = [
    [("phone", f"1380000{p}00{n}") for n in range(2)]
    + [("wechat_unionid", f"union-{p}"), ("tmall_omid", f"omid-{p}")]
    + [("store_card", f"card-{p}-{n}") for n in range(3)]
    + ([SHARED_DEVICE] if p < 2 else [])
    for p in range(4)
]
PROTECTED = {pair: ident(*pair) for person in PEOPLE for pair in person}


def merges(pair):
    return rule(pair[0]).merges


@st.composite
def event_streams(draw):
    events = []
    for n in range(draw(st.integers(1, 12))):
        person = draw(st.sampled_from(PEOPLE))
        ids = draw(st.lists(st.sampled_from(person), min_size=1, max_size=4, unique=True))
        events.append((f"e{n}", ids))
    # replay some events, then shuffle everything
    replays = draw(st.lists(st.sampled_from(events), max_size=len(events)))
    stream = draw(st.permutations(events + replays))
    interleave = draw(st.lists(st.booleans(), min_size=len(stream), max_size=len(stream)))
    return events, list(zip(stream, interleave, strict=True))


def components(events):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, ids in events:
        strong = [pair for pair in ids if merges(pair)]  # attach-only identities join nobody
        for pair in strong:
            find(pair)
        for a, b in itertools.pairwise(strong):
            parent[find(a)] = find(b)
    groups = {}
    for pair in parent:
        groups.setdefault(find(pair), set()).add(pair)
    return {frozenset(g) for g in groups.values()}


def to_request(event_id, ids):
    return ResolveRequest(
        causing_event_id=f"tmall:{event_id}",
        channel="tmall",
        occurred_at=T0,
        identities=[PROTECTED[p] for p in ids],
    )


def no_pause(_):
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_streams())
def test_members_are_the_connected_components(stream):
    events, schedule = stream
    store = FakeMemberStore()
    clock = VirtualClock(T0)
    i = 0
    while i < len(schedule):
        (event_id, ids), interleave = schedule[i]
        if interleave and i + 1 < len(schedule):
            # two consumers read the same state, then both try to commit
            other_id, other_ids = schedule[i + 1][0]
            reqs = [to_request(event_id, ids), to_request(other_id, other_ids)]
            plans = [
                plan(
                    r,
                    load_snapshot(store, [u.ref for u in usable_identities(r.identities)]),
                    clock.now(),
                    MEMBER_IDS,
                )
                for r in reqs
            ]
            for req, (_, change) in zip(reqs, plans, strict=True):
                try:
                    if not change.is_empty():
                        store.commit(change)
                except ConcurrentChange:
                    # the retry SQS would make
                    resolve(store, req, clock, ids=MEMBER_IDS, pause=no_pause)
            i += 2
        else:
            resolve(store, to_request(event_id, ids), clock, ids=MEMBER_IDS, pause=no_pause)
            i += 1

    by_member = {}
    for pair, protected in PROTECTED.items():
        owner = store.claim_rows.get((protected.type, protected.key))
        if owner is not None and merges(pair):
            by_member.setdefault(owner, set()).add(pair)
    assert {frozenset(g) for g in by_member.values()} == components(events)
    for member in store.roots().values():
        for identity_type in {i.type for i in member.identities}:
            assert member.count(identity_type) <= rule(identity_type).limit
    device = PROTECTED[SHARED_DEVICE]
    holder = store.claim_rows.get((device.type, device.key))
    assert (holder is not None) == any(SHARED_DEVICE in ids for _, ids in events)
    # the only member without a merge-capable identity: one the tablet alone created
    assert set(store.roots()) - set(by_member) <= {holder}
    assert len(store.events_of("member.created")) == len(store.member_rows)
