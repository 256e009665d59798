"""Issue 13 finding 9: the fake payout provider was used in every stage, prod included (D73)."""

import json

import pytest

from devstack.moto_cfn import RuleFailed
from devstack.template import load_model
from omnihub.adapters import payout_provider as providers
from omnihub.settings import _settings_of
from tests.conftest import ROOT


@pytest.fixture
def stage(monkeypatch):
    """Set the function's environment for a stage; settings are cached per function name."""

    def use(name: str, provider: str) -> None:
        for key, value in {
            "STAGE": name,
            "EVENT_LOG_TABLE": "t",
            "MEMBERS_TABLE": "m",
            "EVENT_BUS_NAME": "b",
            "PARAMETER_PATH": f"/omnihub/{name}",
            "PAYOUT_PROVIDER": provider,
            "AWS_LAMBDA_FUNCTION_NAME": f"payouts-{name}-{provider}",
        }.items():
            monkeypatch.setenv(key, value)

    yield use
    _settings_of.cache_clear()


def test_the_unconfigured_provider_refuses_to_pay_and_says_why(stage):
    stage("prod", "unconfigured")
    provider = providers.payout_provider()
    with pytest.raises(providers.PayoutProviderNotConfigured, match="was not sent"):
        provider.pay("ldr-1", "wd-1-1", 100)


def test_the_fake_provider_refuses_to_start_outside_dev(stage):
    """Regression: PAYOUT_PROVIDER=fake was hard-coded, so prod "paid" leaders on paper."""
    stage("prod", "fake")
    with pytest.raises(RuntimeError, match="refused in stage 'prod'"):
        providers.payout_provider()
    stage("dev", "fake")
    assert isinstance(providers.payout_provider(), providers.FakePayoutProvider)


def _rule_holds(stage_name: str, provider: str) -> bool:
    """Create the stack as CloudFormation would: its Rules refuse what they forbid."""
    try:
        load_model(ROOT, parameters={"Stage": stage_name, "PayoutProvider": provider})
    except RuleFailed as failed:
        return "NoFakePayoutsOutsideDev" not in str(failed)
    return True


def test_the_template_refuses_a_prod_deploy_with_the_fake_provider():
    assert not _rule_holds("prod", "fake")
    assert _rule_holds("prod", "unconfigured")
    assert _rule_holds("dev", "fake")


def test_prod_parameters_in_samconfig_choose_a_provider_the_rule_accepts():
    text = (ROOT / "samconfig.toml").read_text()
    prod = text.split("[prod.deploy.parameters]")[1]
    line = next(x for x in prod.splitlines() if x.startswith("parameter_overrides"))
    overrides = dict(p.split("=", 1) for p in json.loads(line.split("=", 1)[1]).split())
    assert overrides["Stage"] == "prod"
    assert _rule_holds("prod", overrides.get("PayoutProvider", "fake"))


def _payouts_policy(parameters):
    """The payouts function's role policies as the stack created them (SAM expanded them)."""
    model = load_model(ROOT, parameters=parameters)
    role = model.cloudformation["Resources"]["PayoutsFunctionRole"]
    return json.dumps(model.resolve(role["Properties"]["Policies"]))


def test_the_fake_failure_list_exists_and_is_readable_only_in_dev():
    """Regression: the failure list was readable (and so settable to fail payouts) in prod."""
    prod = {"Stage": "prod", "PayoutProvider": "unconfigured"}
    model = load_model(ROOT, parameters=prod)
    assert not any("fake-payout" in p.name for p in model.ssm_parameters.values())
    assert "fake-payout-failures" not in _payouts_policy(prod)
    assert model.functions["PayoutsFunction"].environment["PAYOUT_PROVIDER"] == "unconfigured"

    dev = load_model(ROOT)
    assert "/omnihub/dev/leaders/fake-payout-failures" in {
        p.name for p in dev.ssm_parameters.values()
    }
    assert "fake-payout-failures" in _payouts_policy({})
    assert dev.functions["PayoutsFunction"].environment["PAYOUT_PROVIDER"] == "fake"
