"""The trained model file is what `make train-classifier` builds from today's inputs."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from omnihub.feedback import heads

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from feedback_dev import LABELS, label_files, labels_sha256  # noqa: E402
from train_classifier import DEFAULT_DATA, model_sources  # noqa: E402


def _meta() -> dict:
    return json.loads(heads.MODEL_PATH.read_text(encoding="utf-8"))["meta"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(model_sources()))
def test_the_model_was_trained_from_todays_code(name: str) -> None:
    recorded = _meta()["inputs_sha256"][name]
    assert recorded == _sha(model_sources()[name]), f"{name} changed: run make train-classifier"


def test_the_model_was_trained_from_todays_labels() -> None:
    assert _meta()["inputs_sha256"]["labels"] == labels_sha256(LABELS), "run make train-classifier"


@pytest.mark.skipif(not DEFAULT_DATA.exists(), reason="the shared reviews are not on this machine")
def test_the_model_was_trained_from_the_shared_reviews() -> None:
    assert _meta()["inputs_sha256"]["reviews"] == _sha(DEFAULT_DATA)


def test_a_file_of_another_format_or_shape_is_refused() -> None:
    raw = json.loads(heads.MODEL_PATH.read_text(encoding="utf-8"))
    assert heads.HeadsModel.from_json(raw).thresholds.risk_high > 0
    for broken in (
        {**raw, "format": "omnihub-sentiment-lr/1"},
        {**raw, "slots": raw["slots"][:-1]},
        {**raw, "bias": raw["bias"][:3]},
        {**raw, "weights": {"sentiment": {}}},
    ):
        with pytest.raises(ValueError, match="model"):
            heads.HeadsModel.from_json(broken)


def test_the_model_file_stays_small() -> None:
    """A derived model may ship in the layer, the data it came from may not: under 2 MB."""
    assert heads.MODEL_PATH.stat().st_size < 2_000_000


def test_every_label_file_stays_small() -> None:
    """The labels are in the project (their texts are not): one file per round, each under 2 MB."""
    files = label_files(LABELS)
    assert len(files) >= 4
    assert all(f.stat().st_size < 2_000_000 for f in files)
