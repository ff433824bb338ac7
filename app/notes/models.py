"""The meeting notes of a session: a summary, decisions, action items and open questions.

Every action item names the transcript line it came from (`transcript_id`), so the window
can jump to it and an export can give its time.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.errors import ValidationError
from app.timeutil import iso_now

BACKENDS = ("local", "ollama", "openai")


@dataclass
class ActionItem:
    item_id: str
    task: str
    owner: str | None
    due: str | None  # as said in the meeting ("Friday", "next week"), None when not said
    transcript_id: str  # the TranscriptSegment the item came from
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionItem:
        try:
            return cls(item_id=str(data["item_id"]), task=str(data["task"]),
                       owner=_optional_text(data.get("owner")), due=_optional_text(data.get("due")),
                       transcript_id=str(data["transcript_id"]), done=bool(data.get("done", False)))
        except KeyError as exc:
            raise ValidationError(f"An action item lacks {exc.args[0]!r}",
                                  field=f"action_items.{exc.args[0]}") from None


@dataclass
class MeetingNotes:
    session_id: str
    summary: str
    decisions: list[str]
    action_items: list[ActionItem]
    open_questions: list[str]
    backend: str  # one of BACKENDS
    model: str
    created_at: str = field(default_factory=iso_now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeetingNotes:
        backend = str(data.get("backend", ""))
        if backend not in BACKENDS:
            raise ValidationError(f"Unknown notes back-end {backend!r}; expected one of {BACKENDS}", field="backend")
        try:
            return cls(session_id=str(data["session_id"]), summary=str(data.get("summary") or ""),
                       decisions=[str(d) for d in data.get("decisions") or []],
                       action_items=[ActionItem.from_dict(a) for a in data.get("action_items") or []],
                       open_questions=[str(q) for q in data.get("open_questions") or []],
                       backend=backend, model=str(data.get("model") or ""),
                       created_at=str(data.get("created_at") or iso_now()))
        except KeyError as exc:
            raise ValidationError(f"Meeting notes lack {exc.args[0]!r}", field=str(exc.args[0])) from None


def _optional_text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
