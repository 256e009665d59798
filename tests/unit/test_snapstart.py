"""The SnapStart after-restore hook (omnihub.snapstart), run as Lambda's runtime runs it: every
registered hook, in order, after a restore. A restored copy re-reads secrets, makes its own
clients and does not share the snapshot's random state."""

from __future__ import annotations

import random
import sys

import boto3
import pytest
from moto import mock_aws
from snapshot_restore_py import get_after_restore

from omnihub import snapstart, wiring
from omnihub.adapters import aws


def _restore() -> None:
    """What the runtime does after restoring a snapshot."""
    for hook, args, kwargs in get_after_restore():
        hook(*args, **kwargs)


def test_importing_any_handler_registers_the_hook_once() -> None:
    import omnihub.observability  # noqa: F401 - every handler imports it

    hooks = [hook for hook, _, _ in get_after_restore()]
    assert hooks.count(snapstart.after_restore) == 1
    assert snapstart.REGISTERED


@mock_aws
def test_a_cached_secret_is_read_again_after_a_restore() -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/omnihub/dev/channels/tmall/secret", Value="v1", Type="SecureString")
    wiring.forget_cached()
    assert wiring.parameters().get("/omnihub/dev/channels/tmall/secret") == "v1"
    ssm.put_parameter(
        Name="/omnihub/dev/channels/tmall/secret", Value="v2", Type="SecureString", Overwrite=True
    )
    assert wiring.parameters().get("/omnihub/dev/channels/tmall/secret") == "v1"  # cached
    _restore()
    assert wiring.parameters().get("/omnihub/dev/channels/tmall/secret") == "v2"


@mock_aws
def test_clients_sessions_and_stores_are_made_again() -> None:
    wiring.parameters()
    session, ssm = aws.session(), aws.client("ssm")
    _restore()
    for cached in (aws.session, aws.client, wiring.parameters, wiring.rule_sets):
        assert cached.cache_info().currsize == 0, cached
    assert aws.session() is not session
    assert aws.client("ssm") is not ssm


def test_the_knowledge_cache_and_its_client_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "_knowledge", object())
    _restore()
    assert wiring._knowledge is None


def test_each_restored_copy_gets_its_own_random_state() -> None:
    random.seed(7)  # the state every copy of one snapshot starts from
    snapshot = random.getstate()
    _restore()
    first = random.getstate()
    random.setstate(snapshot)
    _restore()
    assert first != snapshot
    assert random.getstate() not in (snapshot, first)


def test_without_the_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ImportError
    assert snapstart._register() is False
