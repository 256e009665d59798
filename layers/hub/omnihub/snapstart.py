"""Lambda SnapStart: what the restored copies of one snapshot must not share.

With the template's `SnapStart` parameter "true", Lambda runs a function's INIT (imports and
module-level work) once per published version, snapshots the process, and starts new execution
environments as copies of that snapshot (README, "SnapStart"). Imports and data parsed from the
package are worth sharing; what is listed below must be made again in each copy, and stale
values must not outlive a snapshot that may be days old. One after-restore hook, registered when
this module is imported (omnihub.observability imports it, and every handler imports that),
drops it:

- every functools cache at module level of a loaded omnihub module: the SSM parameter cache
  (channel secrets, PII and member-id keys, rule sets, each with a monotonic-clock expiry that a
  restore does not advance), the stores, botocore's session and clients and the credentials a
  session resolved, the settings;
- the knowledge base cache and its table client (omnihub.wiring);
- the `random` module's state (retry jitter): reseeded from the OS, so copies differ.

Business time is read per call (omnihub.clock), so no clock offset is held. Without SnapStart
the hook never runs; without the library (Lambda's Python runtimes include it; locally it comes
from requirements-dev.txt) nothing is registered and nothing breaks.
"""

from __future__ import annotations

import random
import sys
from typing import Any


def _lru_caches(module: Any) -> list[Any]:
    """The functools caches a module defines (not the ones it imported from elsewhere)."""
    name = module.__name__
    return [
        value
        for value in list(vars(module).values())
        if callable(getattr(value, "cache_clear", None))
        and hasattr(value, "__wrapped__")
        and getattr(value, "__module__", None) == name
    ]


def after_restore() -> None:
    """Drop what one restored copy must make for itself (the module docstring lists it)."""
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "omnihub" or name.startswith("omnihub.")):
            for cached in _lru_caches(module):
                cached.cache_clear()
    if "omnihub.wiring" in sys.modules:  # never imported here for its own sake
        from omnihub import wiring

        wiring._knowledge = None  # holds the knowledge table's client
    random.seed()  # from os.urandom


def _register() -> bool:
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-untyped]
    except ImportError:  # not in Lambda's runtime nor installed: no SnapStart here either
        return False
    register_after_restore(after_restore)
    return True


REGISTERED = _register()
