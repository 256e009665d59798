"""Resolve CloudFormation intrinsic functions against parameters and predicted physical names.

Supported: Ref (parameters, pseudo parameters, resources), Fn::Sub (both forms), Fn::GetAtt,
Fn::If / Fn::Equals / Fn::And / Fn::Or / Fn::Not / Condition, Fn::Join, Fn::Select, Fn::Split,
Fn::FindInMap, Fn::Base64, Fn::GetAZs, AWS::NoValue. Anything else raises, so a template that uses
something new fails loudly at load time rather than running with a wrong value.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from devstack.physical import Physical, Pseudo, physical


class TemplateError(ValueError):
    """The template cannot be resolved (unknown reference, missing parameter, bad intrinsic)."""


class _NoValue:
    """`AWS::NoValue`: the property disappears from its parent."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsics for one set of parameter values; memoises physical names."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        pseudo: Pseudo | None = None,
    ) -> None:
        self.template = template
        self.pseudo = pseudo or Pseudo()
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}
        self._physical: dict[str, Physical] = {}
        self._in_progress: set[str] = set()

    # -- parameters and conditions --------------------------------------------------------------
    def _parameter_values(self, given: Mapping[str, str]) -> dict[str, Any]:
        declared: Mapping[str, Any] = self.template.get("Parameters") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise TemplateError(f"unknown parameters: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in given:
                raw: Any = given[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default and no value")
            allowed = spec.get("AllowedValues")
            if allowed and str(raw) not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={raw!r} not in {allowed}")
            kind = str(spec.get("Type", "String"))
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                values[name] = [part.strip() for part in str(raw).split(",")]
            else:
                values[name] = str(raw)  # Ref of a Number parameter is a string, as in CFN
        return values

    def condition(self, name: str) -> bool:
        """Evaluate a named condition of the template's Conditions section."""
        if name not in self._conditions:
            declared: Mapping[str, Any] = self.template.get("Conditions") or {}
            if name not in declared:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(declared[name]))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        """False when the resource's `Condition` attribute evaluates false (CFN skips it)."""
        name = (self.resources.get(logical_id) or {}).get("Condition")
        return True if name is None else self.condition(str(name))

    # -- resources -------------------------------------------------------------------------------
    def physical(self, logical_id: str) -> Physical:
        """The predicted physical values of a resource (memoised; cycles are template errors)."""
        if logical_id in self._physical:
            return self._physical[logical_id]
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"unknown resource {logical_id}")
        if logical_id in self._in_progress:
            raise TemplateError(f"circular reference through {logical_id}")
        self._in_progress.add(logical_id)
        try:
            props: Mapping[str, Any] = resource.get("Properties") or {}

            def prop(key: str) -> Any:
                value = self.resolve(props.get(key))
                return None if value is NO_VALUE else value

            result = physical(str(resource.get("Type")), logical_id, prop, self.pseudo)
        finally:
            self._in_progress.discard(logical_id)
        self._physical[logical_id] = result
        return result

    def ref(self, name: str) -> Any:
        """What `Ref` answers for a parameter, a pseudo parameter or a resource."""
        pseudo = {
            "AWS::Region": self.pseudo.region,
            "AWS::Partition": self.pseudo.partition,
            "AWS::AccountId": self.pseudo.account_id,
            "AWS::URLSuffix": self.pseudo.url_suffix,
            "AWS::StackName": self.pseudo.stack_name,
            "AWS::StackId": self.pseudo.arn(
                "cloudformation", f"stack/{self.pseudo.stack_name}/local"
            ),
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical(name).ref

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What `Fn::GetAtt` answers; unknown attributes are template errors."""
        found = self.physical(logical_id).attributes
        if attribute not in found:
            raise TemplateError(f"{logical_id} has no attribute {attribute} in the local stack")
        return found[attribute]

    # -- evaluation ------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Evaluate every intrinsic in `value`, dropping `AWS::NoValue` entries."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Condition":
                return self.condition(str(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _function(self, name: str, arg: Any) -> Any:
        handler = getattr(self, f"_fn_{name.lower()}", None)
        if handler is None:
            raise TemplateError(f"Fn::{name} is not supported by the local stack")
        return handler(arg)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    def _fn_getatt(self, arg: Any) -> str:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = self.resolve(arg[0]), self.resolve(arg[1])
        return self.get_att(str(logical_id), str(attribute))

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = (self.resolve(item) for item in arg)
        return str(left) == str(right)

    def _fn_not(self, arg: Any) -> bool:
        return not self.resolve(arg[0])

    def _fn_and(self, arg: Any) -> bool:
        return all(self.resolve(item) for item in arg)

    def _fn_or(self, arg: Any) -> bool:
        return any(self.resolve(item) for item in arg)

    def _fn_join(self, arg: Any) -> str:
        delimiter, items = arg
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _fn_select(self, arg: Any) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _fn_split(self, arg: Any) -> list[str]:
        delimiter, text = arg
        return str(self.resolve(text)).split(str(delimiter))

    def _fn_findinmap(self, arg: Any) -> Any:
        mapping, first, second = (self.resolve(item) for item in arg[:3])
        try:
            return self.template["Mappings"][mapping][first][second]
        except KeyError as missing:
            raise TemplateError(f"Fn::FindInMap {mapping}/{first}/{second}") from missing

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _fn_getazs(self, _: Any) -> list[str]:
        return [f"{self.pseudo.region}{zone}" for zone in "abc"]
