"""A YAML loader for CloudFormation templates: short tags (`!Ref`, `!Sub`...) become the long form.

PyYAML's safe loader rejects unknown tags; CloudFormation's short forms are tags, so each one is
mapped to the `{"Fn::X": ...}` / `{"Ref": ...}` dictionary the intrinsic resolver understands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: Short tag -> long form key. `!GetAtt` and `!Ref` get special handling below.
_FUNCTIONS = (
    "Sub",
    "If",
    "Equals",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Not",
    "And",
    "Or",
    "Cidr",
    "Transform",
    "ToJsonString",
    "Length",
)


class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that also understands CloudFormation's short intrinsic tags."""


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(
        None, None, f"unexpected node {node!r}", node.start_mark
    )


def _make_function(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct(loader, node)}

    return construct


def _construct_ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct(loader, node)}


def _construct_condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct(loader, node)}


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(loader, node)
    if isinstance(value, str):
        # `!GetAtt Res.Attr.Sub` means resource `Res`, attribute `Attr.Sub`.
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


for _name in _FUNCTIONS:
    CfnLoader.add_constructor(f"!{_name}", _make_function(_name))
CfnLoader.add_constructor("!Ref", _construct_ref)
CfnLoader.add_constructor("!Condition", _construct_condition)
CfnLoader.add_constructor("!GetAtt", _construct_getatt)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a template file into plain dictionaries with long-form intrinsics."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a template is a mapping at the top level")
    return data
