"""The versions SAM publishes for the `live` alias (template.yaml, AutoPublishAlias): a new one
exactly when a function's code, layer or configuration in the template changes, so a deploy that
changes nothing starts no new snapshot (README, "SnapStart")."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.sam import expand
from tests.devstack.devstack_support import PROJECT_ROOT

TEMPLATE = (PROJECT_ROOT / "template.yaml").read_text(encoding="utf-8")


def _versions(tmp_path: Path, text: str = TEMPLATE, **parameters: str) -> dict[str, str]:
    """Function logical id -> the logical id of the version SAM publishes for it."""
    path = tmp_path / f"t{abs(hash((text, tuple(parameters.items()))))}" / "template.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    resources = expand(path, region="cn-north-1", parameters=parameters).template["Resources"]
    return {
        r["Properties"]["FunctionName"]["Ref"]: k
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Version"
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {f for f in before if before[f] != after[f]}


def test_every_function_publishes_a_version_behind_the_live_alias(tmp_path: Path) -> None:
    versions = _versions(tmp_path)
    functions = TEMPLATE.count("Type: AWS::Serverless::Function")
    assert len(versions) == functions
    # cfn-lint's Globals schema lacks it, so each function sets it (template.yaml, Globals)
    assert TEMPLATE.count("AutoPublishAliasAllProperties: true") == functions


def test_the_same_template_publishes_nothing_new(tmp_path: Path) -> None:
    assert _changed(_versions(tmp_path), _versions(tmp_path / "again")) == set()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # code: sam package gives changed code a new S3 key
        ("CodeUri: functions/webhook/", "CodeUri: functions/webhook2/", {"WebhookFunction"}),
        # configuration of one function
        (
            "Description: Verifies, validates and logs a channel event exactly once",
            "Description: Verifies and logs a channel event exactly once",
            {"WebhookFunction"},
        ),
        # configuration of all (Globals)
        (
            'POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false"',
            'POWERTOOLS_TRACER_CAPTURE_RESPONSE: "true"',
            "all",
        ),
        # the shared layer's content: every function runs the domain code in it
        ("ContentUri: layers/hub\n", "ContentUri: layers/hub2\n", "all"),
    ],
)
def test_a_change_publishes_a_version_of_the_functions_it_reaches(
    tmp_path: Path, old: str, new: str, expected: set[str] | str
) -> None:
    assert TEMPLATE.count(old) == 1, old
    before = _versions(tmp_path)
    changed = _changed(before, _versions(tmp_path, TEMPLATE.replace(old, new)))
    assert changed == (set(before) if expected == "all" else expected)


def test_a_parameter_value_alone_publishes_nothing_new(tmp_path: Path) -> None:
    """SAM hashes a parameter's `Ref`, not its value (aws/serverless-application-model#3820):
    switching SnapStart on a deployed stack reaches the alias with the next deploy that
    publishes versions (README, "SnapStart"). Fails the day SAM hashes values: update the README."""
    before = _versions(tmp_path)
    assert _changed(before, _versions(tmp_path, SnapStart="true")) == set()
