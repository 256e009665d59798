"""Every rule set read one way (docs/operations.md): parameter -> pydantic model + defaults.

A value in SSM holds only what differs from the defaults: maps merge key by key, recursively
(`{"tier_thresholds_fen": {"gold": 50000}}` keeps the default `diamond`); lists and scalars
replace. `validate` is what setting a value runs (it raises `RuleSetRejected` naming the field
at fault); `RuleSets` is what loading runs: the same merge behind `LastGood`, so a broken value
found at load is never applied and no event fails because of a rule set.

The registry names modules, not classes: a function imports only the models it reads.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from omnihub.adapters.parameters import LastGood

M = TypeVar("M", bound=BaseModel)

_OBJECT = TypeAdapter(dict[str, Any])


@dataclass(frozen=True)
class RuleSet:
    """One rule set: where it lives under `/omnihub/<stage>/`, its model, its defaults.

    `defaults` names a function of `module` answering the default value as JSON data; without
    it the model's own field defaults are the defaults."""

    key: str
    module: str
    model: str
    defaults: str | None = None

    def model_class(self) -> type[BaseModel]:
        cls: type[BaseModel] = getattr(importlib.import_module(self.module), self.model)
        return cls

    def default_value(self) -> dict[str, Any]:
        if self.defaults is None:
            value: dict[str, Any] = self.model_class()().model_dump(mode="json")
            return value
        made: dict[str, Any] = getattr(importlib.import_module(self.module), self.defaults)()
        return made

    def parse(self, raw: str) -> BaseModel:
        """The value merged over the defaults and validated; pydantic's ValidationError (with
        the field at fault) when it is broken."""
        return parse(self.model_class(), self.default_value(), raw)


#: Every rule set (docs/operations.md) held in one parameter, by its name under the stage path.
REGISTRY: dict[str, RuleSet] = {
    rule_set.key: rule_set
    for rule_set in (
        RuleSet("points/rules", "omnihub.points.rules", "PointsRules"),
        RuleSet(
            "channels/allowed-events", "omnihub.channel_rules", "ChannelRules", "default_value"
        ),
        RuleSet("leaders/scheme", "omnihub.leaders.scheme", "CommissionScheme"),
        RuleSet("tickets/policies", "omnihub.tickets.policies", "SlaPolicies", "default_value"),
    )
}


class RuleSetRejected(ValueError):
    """A value refused when it is set: `field` is the dotted path at fault in the value ("" for
    the value as a whole), `details` every field with pydantic's message."""

    def __init__(self, name: str, details: list[dict[str, str]]) -> None:
        self.name = name
        self.details = details
        self.field = details[0]["field"] if details else ""
        message = details[0]["message"] if details else "invalid"
        super().__init__(f"{name}: {self.field or 'value'}: {message}")


def merge(default: Any, value: Any) -> Any:
    """`value` over `default`: maps key by key, recursively; anything else replaces."""
    if isinstance(default, dict) and isinstance(value, dict):
        merged = dict(default)
        for key, item in value.items():
            merged[key] = merge(default.get(key), item)
        return merged
    return value


def parse(model: type[M], defaults: dict[str, Any], raw: str) -> M:
    """A parameter's JSON object merged over `defaults`, then validated by `model`."""
    return model.model_validate(merge(defaults, _OBJECT.validate_json(raw)))


def rule_set_of(parameter_name: str) -> RuleSet | None:
    """The rule set a parameter `/omnihub/<stage>/<capability>/<name>` holds, or None."""
    parts = parameter_name.split("/", 3)
    if len(parts) != 4 or parts[0] or parts[1] != "omnihub":
        return None
    return REGISTRY.get(parts[3])


def validate(parameter_name: str, text: str) -> BaseModel | None:
    """What setting `parameter_name` to `text` would put in force (None: not a rule set).

    Raises RuleSetRejected naming the field at fault; the caller stores nothing then."""
    rule_set = rule_set_of(parameter_name)
    if rule_set is None:
        return None
    try:
        return rule_set.parse(text)
    except ValidationError as error:
        raise RuleSetRejected(parameter_name, field_errors(error)) from error


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as `{"field": dotted path, "message"}` (never the input values)."""
    return [
        {"field": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


class RuleSets:
    """The rule sets in force in this process: each read through `read` (the five-minute
    parameter cache), merged and validated when its text changes, the last good kept."""

    def __init__(
        self,
        read: Callable[[str], str | None],
        on_invalid: Callable[[str, ValidationError], None],
    ) -> None:
        self._read, self._on_invalid = read, on_invalid
        self._held: dict[str, LastGood[BaseModel]] = {}

    def value(self, parameter_path: str, key: str, model: type[M]) -> M:
        """The rule set `key` under `parameter_path`, as `model` (the registry's class)."""
        name = f"{parameter_path}/{key}"
        held = self._held.get(name)
        if held is None:
            rule_set = REGISTRY[key]
            defaults = json.dumps(rule_set.default_value())
            held = LastGood(
                self._read,
                name,
                rule_set.parse,
                lambda: rule_set.parse(defaults),
                self._on_invalid,
            )
            self._held[name] = held
        current = held.value()
        if not isinstance(current, model):
            raise TypeError(f"{key} holds {type(current).__name__}, not {model.__name__}")
        return current
