"""SAM to plain CloudFormation with AWS's own translator (`aws-sam-translator`, what `sam deploy`
and the `AWS::Serverless-2016-10-31` transform run), so the local stack never reads SAM itself.

Local `CodeUri`/`ContentUri` directories are rewritten to `s3://` URIs first, as `sam package`
does; `Expanded.code` maps each S3 key back to its directory so the local stack runs that code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODE_BUCKET = "devstack-code"
_CODE_PROPERTIES = ("CodeUri", "ContentUri")


@dataclass(frozen=True)
class Expanded:
    """A translated template: plain CloudFormation, and the local directory of each code key."""

    template: dict[str, Any]
    code: dict[str, Path]


def read_template(path: Path) -> dict[str, Any]:
    """The template as written (short-form tags such as `!Ref` become their long form)."""
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def _package(properties: dict[str, Any], base: Path, code: dict[str, Path]) -> None:
    for name in _CODE_PROPERTIES:
        uri = properties.get(name)
        if isinstance(uri, str) and not uri.startswith("s3://"):
            key = uri.strip("/") or "."
            code[key] = (base / uri).resolve()
            properties[name] = f"s3://{CODE_BUCKET}/{key}"


_cache: dict[str, Expanded] = {}


def expand(path: Path, *, region: str, parameters: Mapping[str, str] | None = None) -> Expanded:
    """Translate `path` for a region (partition, managed policy ARNs) and parameter values.

    Cached by template content, translator version, region and parameters: in the process (tests
    start many stacks) and in build/sam/ (translating costs ~1.7 s of `make dev`'s start)."""
    from importlib.metadata import version

    params = dict(parameters or {})
    salt = json.dumps([version("aws-sam-translator"), region, params], sort_keys=True)
    key = hashlib.sha256(path.read_bytes() + salt.encode()).hexdigest()[:32]
    if key not in _cache:
        stored = path.parent / "build" / "sam" / f"{key}.json"
        try:
            saved = json.loads(stored.read_text(encoding="utf-8"))
            _cache[key] = Expanded(
                saved["template"], {k: Path(v) for k, v in saved["code"].items()}
            )
        except (OSError, ValueError, KeyError):
            _cache[key] = _translate(path, region, params)
            _store(stored, _cache[key])
    cached = _cache[key]
    return Expanded(copy.deepcopy(cached.template), dict(cached.code))


def _store(stored: Path, expanded: Expanded) -> None:
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        code = {k: str(v) for k, v in expanded.code.items()}
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"template": expanded.template, "code": code}), "utf-8")
        partial.replace(stored)  # atomic: parallel test workers may store the same key
    except OSError:
        pass  # a read-only checkout translates every time


def _translate(path: Path, region: str, parameters: dict[str, str]) -> Expanded:
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    from devstack.moto_cfn import session_for

    template = read_template(path)
    code: dict[str, Path] = {}
    for section in (template.get("Globals") or {}).values():
        if isinstance(section, dict):
            _package(section, path.parent, code)
    for resource in (template.get("Resources") or {}).values():
        _package(resource.setdefault("Properties", {}) or {}, path.parent, code)
    translator = Translator(None, Parser(), boto_session=session_for(region))
    translated = translator.translate(template, parameters, get_managed_policy_map=lambda: {})
    return Expanded(json.loads(json.dumps(translated, default=str)), code)
