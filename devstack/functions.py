"""Load a template function's handler in process and call it the way Lambda would.

Each function's module is imported from `CodeUri` under a unique name (every handler is `app.py`),
with its environment applied at import time (handlers read it then) and again around every call.
Sibling modules of a code directory are kept per function, so two functions' `models.py` never
collide. Import only after moto's mock is active: handlers create boto3 clients at import time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from devstack.model import FunctionSpec, StackModel

#: Set for every function: tracing needs an X-Ray daemon, which the local stack does not have.
LOCAL_ENV = {"POWERTOOLS_TRACE_DISABLED": "true"}


class FakeLambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left of the function's Timeout, in real time."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LoadedFunction:
    """A handler ready to call, with the environment and private modules of its function."""

    spec: FunctionSpec
    code_dir: Path
    env: dict[str, str]
    module: ModuleType | None = None
    handler: Callable[[Any, Any], Any] | None = None
    own_modules: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def module_name(self) -> str:
        return f"devstack_fn_{self.spec.logical_id}"


def lambda_environment(
    spec: FunctionSpec, model: StackModel, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The function's variables plus the ones Lambda itself sets (region, name, memory...)."""
    code_dir = (model.root / spec.code_uri).resolve()
    reserved = {
        "AWS_REGION": model.pseudo.region,
        "AWS_DEFAULT_REGION": model.pseudo.region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": spec.handler,
    }
    return {**reserved, **spec.environment, **LOCAL_ENV, **(overrides or {})}


@contextmanager
def applied_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the duration of a call and put the previous values back."""
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _function_scope(fn: LoadedFunction) -> Iterator[None]:
    """Code dir first on sys.path and the function's own sibling modules visible, then hidden."""
    code_dir = str(fn.code_dir)
    sys.path.insert(0, code_dir)
    before = set(sys.modules.copy())  # copy() is atomic; other threads may be importing
    displaced = {name: sys.modules[name] for name in fn.own_modules if name in sys.modules}
    sys.modules.update(fn.own_modules)
    try:
        with applied_environment(fn.env):
            yield
    finally:
        for name in (set(sys.modules.copy()) - before) | set(fn.own_modules):
            module = sys.modules.get(name)
            origin = getattr(module, "__file__", None) or ""
            if name != fn.module_name and origin.startswith(code_dir + os.sep):
                fn.own_modules[name] = sys.modules.pop(name)
        sys.modules.update(displaced)
        if sys.path and sys.path[0] == code_dir:
            sys.path.pop(0)
        else:
            sys.path.remove(code_dir)


def load_function(
    spec: FunctionSpec, model: StackModel, overrides: Mapping[str, str] | None = None
) -> LoadedFunction:
    """Import the handler module of `spec` under a unique name and find its handler."""
    code_dir = (model.root / spec.code_uri).resolve()
    fn = LoadedFunction(spec, code_dir, lambda_environment(spec, model, overrides))
    module_path, _, attribute = spec.handler.rpartition(".")
    relative = Path(*module_path.split("."))
    source = code_dir / relative.with_suffix(".py")
    if not source.exists():
        source = code_dir / relative / "__init__.py"
    if not source.exists():
        raise FileNotFoundError(f"{spec.logical_id}: no handler module for {spec.handler}")
    import_spec = importlib.util.spec_from_file_location(fn.module_name, source)
    if import_spec is None or import_spec.loader is None:
        raise ImportError(f"{spec.logical_id}: cannot import {source}")
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[fn.module_name] = module
    try:
        with _function_scope(fn):
            import_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(fn.module_name, None)
        raise
    handler = getattr(module, attribute, None)
    if not callable(handler):
        sys.modules.pop(fn.module_name, None)
        raise AttributeError(f"{spec.logical_id}: {source} has no callable {attribute}")
    fn.module, fn.handler = module, handler
    return fn


def call(fn: LoadedFunction, event: Any) -> Any:
    """Invoke the handler with a fresh context, inside the function's environment."""
    handler = fn.handler
    if handler is None:
        raise RuntimeError(f"{fn.spec.logical_id} is not loaded")
    return in_scope(fn, lambda: handler(event, FakeLambdaContext(fn.spec)))


def in_scope(fn: LoadedFunction, action: Callable[[], Any]) -> Any:
    """Run `action` as if inside the function (e.g. to ask its resolver for OpenAPI)."""
    with _function_scope(fn):
        return action()


def unload(fn: LoadedFunction) -> None:
    """Forget the function's modules so a later stack imports them afresh."""
    sys.modules.pop(fn.module_name, None)
    fn.own_modules.clear()
