"""Tickets live on the member they belong to now: they open on the live root,
follow merges and un-merges in any order, and lose their lineage on erasure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from omnihub.errors import Gone
from omnihub.identity.model import Member
from omnihub.tickets.model import Ticket, ticket_id_for
from omnihub.tickets.service import follow_member, forget_lineage, open_once
from tests.fakes.member_store import FakeMemberStore
from tests.fakes.ticket_store import FakeTicketStore

T0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
CREATED = "2026-01-01T00:00:00.000Z"
PHONE = "phone|k-phone"
UNIONID = "wechat_unionid|k-union"


def members(*rows: Member, claims: dict[str, str] | None = None) -> FakeMemberStore:
    return FakeMemberStore(
        member_rows={m.member_id: m for m in rows},
        claim_rows={tuple(via.split("|", 1)): m for via, m in (claims or {}).items()},  # type: ignore[misc]
    )


def draft(member_id: str, cause: str, via: str | None = None) -> Ticket:
    return Ticket(
        ticket_id=ticket_id_for(cause),
        member_id=member_id,
        channel="tmall",
        priority="P2",
        created_at="",
        opened_by="feedback-routing",
        source="feedback",
        via=via,
    )


def opened(store: FakeTicketStore, m: FakeMemberStore, *drafts: Ticket) -> list[str]:
    return [open_once(store, m, d, T0, d.ticket_id).ticket_id for d in drafts]


def on(store: FakeTicketStore, ticket_id: str) -> str | None:
    return store.tickets[ticket_id].member_id


# --- merges: the live survivor, in any order -----------------------------------------------------


def test_a_merge_handled_late_moves_tickets_to_the_live_survivor_not_the_events_survivor():
    """A absorbs B, then C absorbs A; C<-A is handled first, then A<-B."""
    before = members(Member("mbr_b", CREATED), claims={UNIONID: "mbr_b"})
    store = FakeTicketStore()
    plain, brought = opened(store, before, draft("mbr_b", "b-1"), draft("mbr_b", "b-2", UNIONID))
    after = members(
        Member("mbr_c", CREATED),
        Member("mbr_a", CREATED, merged_into="mbr_c"),
        Member("mbr_b", CREATED, merged_into="mbr_a"),
        claims={UNIONID: "mbr_c"},
    )
    assert follow_member(store, after, "mbr_a") == 0  # C<-A: A has no tickets yet
    assert follow_member(store, after, "mbr_b") == 2  # A<-B, late
    assert (on(store, plain), on(store, brought)) == ("mbr_c", "mbr_c")
    assert follow_member(store, after, "mbr_b") == 0  # twice: nothing more


def test_a_ticket_for_an_absorbed_member_opens_on_its_live_survivor():
    m = members(
        Member("mbr_c", CREATED),
        Member("mbr_a", CREATED, merged_into="mbr_c"),
        Member("mbr_b", CREATED, merged_into="mbr_a"),
    )
    store = FakeTicketStore(members=m)
    (ticket,) = opened(store, m, draft("mbr_b", "b-1"))
    assert on(store, ticket) == "mbr_c"
    assert {e.member_id for e in store.published.values()} == {"mbr_c"}


def test_a_merge_committing_between_the_lookup_and_the_write_opens_it_on_the_survivor():
    m = members(Member("mbr_a", CREATED), Member("mbr_b", CREATED))
    store = FakeTicketStore(members=m)

    def merge_first(change):
        if change.live_member == "mbr_b":  # B merges into A just before the ticket is written
            m.member_rows["mbr_b"] = replace(m.member_rows["mbr_b"], merged_into="mbr_a")

    store.before_commit = merge_first
    (ticket,) = opened(store, m, draft("mbr_b", "b-1"))
    assert on(store, ticket) == "mbr_a"
    assert [e.member_id for e in store.events_of("ticket.created")] == ["mbr_a"]


# --- un-merges: what came through the split identity goes with it ------------------------------


def split_members() -> FakeMemberStore:
    """R absorbed B (whose identity was the unionid), then an admin split it out into N."""
    return members(
        Member("mbr_r", CREATED),
        Member("mbr_b", CREATED, merged_into="mbr_r"),
        Member("mbr_n", CREATED, split_from="mbr_r"),
        claims={PHONE: "mbr_r", UNIONID: "mbr_n"},
    )


def test_an_unmerge_takes_the_tickets_its_identity_brought_and_leaves_the_rest():
    store = FakeTicketStore()
    nobody = FakeMemberStore()
    own, plain, brought = opened(
        store,
        nobody,
        draft("mbr_r", "r-1", PHONE),
        draft("mbr_r", "r-2"),
        draft("mbr_r", "r-3", UNIONID),
    )
    m = split_members()
    assert follow_member(store, m, "mbr_r") == 1
    assert (on(store, own), on(store, plain), on(store, brought)) == ("mbr_r", "mbr_r", "mbr_n")
    assert store.tickets[brought].via == UNIONID
    assert follow_member(store, m, "mbr_r") == 0


def test_a_merge_handled_after_the_unmerge_does_not_drag_the_tickets_back():
    store = FakeTicketStore()
    before = members(Member("mbr_b", CREATED), claims={UNIONID: "mbr_b"})
    (brought,) = opened(store, before, draft("mbr_b", "b-1", UNIONID))
    m = split_members()
    assert follow_member(store, m, "mbr_r") == 0  # the un-merge, handled first: nothing on R
    assert follow_member(store, m, "mbr_b") == 1  # R<-B, late
    assert on(store, brought) == "mbr_n"


def test_a_ticket_requested_before_an_unmerge_and_opened_after_it_opens_on_the_new_member():
    m = split_members()
    store = FakeTicketStore(members=m)
    (ticket,) = opened(store, m, draft("mbr_r", "r-1", UNIONID))
    assert on(store, ticket) == "mbr_n"


# --- erasure: no lineage left behind -------------------------------------------------------------


def test_erasure_clears_the_lineage_of_the_members_tickets_once():
    store = FakeTicketStore()
    nobody = FakeMemberStore()
    brought, plain = opened(store, nobody, draft("mbr_e", "e-1", PHONE), draft("mbr_e", "e-2"))
    (other,) = opened(store, nobody, draft("mbr_x", "x-1", UNIONID))
    assert forget_lineage(store, "mbr_e") == 1
    assert forget_lineage(store, "mbr_e") == 0
    assert (store.tickets[brought].via, store.tickets[plain].via) == (None, None)
    assert store.tickets[other].via == UNIONID
    assert on(store, brought) == "mbr_e"


def test_a_ticket_that_follows_a_merge_onto_an_erased_member_loses_its_lineage():
    store = FakeTicketStore()
    before = members(Member("mbr_b", CREATED), claims={UNIONID: "mbr_b"})
    (ticket,) = opened(store, before, draft("mbr_b", "b-1", UNIONID))
    m = members(
        Member("mbr_a", CREATED, erased_at="2026-11-10T00:00:00.000Z"),
        Member("mbr_b", CREATED, merged_into="mbr_a"),
    )  # the erasure released every claim
    assert follow_member(store, m, "mbr_b") == 1
    assert (on(store, ticket), store.tickets[ticket].via) == ("mbr_a", None)


def test_a_ticket_for_an_erased_member_opens_without_lineage_or_is_refused_to_staff():
    m = members(
        Member("mbr_a", CREATED, erased_at="2026-11-10T00:00:00.000Z"),
        Member("mbr_b", CREATED, merged_into="mbr_a"),
    )
    store = FakeTicketStore(members=m)
    (ticket,) = opened(store, m, draft("mbr_b", "b-1", UNIONID))
    assert (on(store, ticket), store.tickets[ticket].via) == ("mbr_a", None)
    with pytest.raises(Gone):
        open_once(store, m, draft("mbr_b", "staff-1"), T0, "staff-1", refuse_erased=True)


def test_an_unmerge_committing_between_the_lookup_and_the_write_opens_it_on_the_new_member():
    m = members(Member("mbr_r", CREATED), claims={UNIONID: "mbr_r"})
    store = FakeTicketStore(members=m)

    def split_first(change):
        if change.live_member == "mbr_r":  # the unionid is split out into N just before
            m.member_rows["mbr_n"] = Member("mbr_n", CREATED, split_from="mbr_r")
            m.claim_rows[("wechat_unionid", "k-union")] = "mbr_n"

    store.before_commit = split_first
    (ticket,) = opened(store, m, draft("mbr_r", "r-1", UNIONID))
    assert on(store, ticket) == "mbr_n"


def test_staff_cannot_open_a_ticket_for_a_member_that_does_not_exist():
    """Issue 15: refused on `member_id`, nothing written; an event's ticket still opens (the
    identity table may answer for a member later than a capability sees it)."""
    from omnihub.errors import InvalidInput

    m = members(Member("mbr_a", CREATED))
    store = FakeTicketStore(members=m)
    with pytest.raises(InvalidInput) as refused:
        open_once(store, m, draft("mbr_0", "staff-2"), T0, "staff-2", refuse_unknown=True)
    assert [d["field"] for d in refused.value.details] == ["member_id"]
    assert store.tickets == {}
    known = open_once(store, m, draft("mbr_a", "staff-3"), T0, "staff-3", refuse_unknown=True)
    assert on(store, known.ticket_id) == "mbr_a"
    (from_event,) = opened(store, m, draft("mbr_0", "event-1"))
    assert on(store, from_event) == "mbr_0"
