"""Typed domain errors. The HTTP layer maps each class to a status; nothing matches on messages."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of every error the hub raises on purpose; `code` is stable, `message` is for people."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(HubError):
    """The request or event does not satisfy its contract (the details name the fields)."""

    code = "invalid_input"


class MalformedBody(HubError):
    """The body is not parseable at all (not JSON, not UTF-8)."""

    code = "malformed_body"


class PayloadTooLarge(HubError):
    code = "payload_too_large"


class Unauthenticated(HubError):
    """Bad or missing signature or token, or a stale timestamp."""

    code = "unauthenticated"


class Forbidden(HubError):
    """Authenticated, but this role or scope may not."""

    code = "forbidden"


class EventNotAllowed(Forbidden):
    """A channel posted an event type, or a link (leader_id, store_id), it may not."""

    code = "event_not_allowed"


class NotFound(HubError):
    code = "not_found"


class Gone(HubError):
    """The thing existed and was removed for good (an erased member)."""

    code = "gone"


class Conflict(HubError):
    """The request contradicts the state (an id reused with another body; a short balance)."""

    code = "conflict"


class ConcurrentChange(HubError):
    """Someone else changed the same items first; the caller re-reads and tries again."""

    code = "concurrent_change"


class AlreadyApplied(HubError):
    """The cause of this change (a ledger entry, a redemption id) was applied before."""

    code = "already_applied"
