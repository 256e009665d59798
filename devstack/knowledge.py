"""The knowledge base in the local stack: seeded from seed/knowledge.json when the stack starts,
and `POST /_local/knowledge {"entry": {...}}` to add or change one entry the way an operator
would (`make knowledge-put` in AWS): validated first (422 naming the field), then written, then
the feedback consumer's cache is dropped so the entry answers at once, with no restart (D84)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

KNOWLEDGE_TABLE = "KnowledgeTable"


def seed_knowledge(dynamodb: Any, table: str) -> int:
    """Load the seed's entries the table lacks (what `make deploy` does in AWS); a cache left
    by an earlier stack in this process is dropped, so the new stack answers from its table."""
    from omnihub import wiring
    from omnihub.adapters.knowledge_table import KnowledgeTable
    from omnihub.feedback.knowledge import read_seed

    wiring.forget_knowledge()
    return KnowledgeTable(dynamodb, table).seed(read_seed())


def put_entry(dynamodb: Any, table: str, payload: Any) -> tuple[int, dict[str, Any]]:
    """Validate and write one entry, then drop the cache; (status, body) for the helper."""
    from omnihub import wiring
    from omnihub.adapters.knowledge_table import KnowledgeTable
    from omnihub.feedback.knowledge import EntryData
    from omnihub.webhook.intake import field_errors

    raw = payload.get("entry") if isinstance(payload, dict) else None
    if not isinstance(raw, dict):
        details = [{"field": "entry", "message": "an object is required"}]
        return 422, _error("entry: an object is required", details)
    try:
        entry = EntryData.model_validate(raw)
    except ValidationError as error:
        details = field_errors(error, ("entry",))
        return 422, _error(f"invalid knowledge entry: {details[0]['field']}", details)
    KnowledgeTable(dynamodb, table).put_entry(entry)
    wiring.forget_knowledge()
    return 200, {"entry_id": entry.id}


def _error(message: str, details: list[dict[str, str]]) -> dict[str, Any]:
    return {"error": {"code": "invalid_input", "message": message, "details": details}}
