"""Meeting notes from a transcript, map-reduce: the transcript is cut into chunks that fit the
model's context, each chunk is turned into partial notes (map), and the partial notes are
merged into one (reduce). Every answer is constrained by a JSON schema, so it always parses.

Each transcript line goes to the model with its number; an action item names the number of
the line it came from, and the schema lets the model name only the lines of its chunk, so
every action item links to a real transcript line. Action items are never rewritten by the
reduce step: the items of every chunk are kept, with their links.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.errors import NotesBackendFailed, NotesUnavailable
from app.models import TranscriptSegment
from app.notes.models import ActionItem, MeetingNotes

# Characters per token of English speech, on the low side so a chunk never overflows.
CHARS_PER_TOKEN = 3.0
PROMPT_TOKENS = 450  # the instructions around a chunk
MAP_ANSWER_TOKENS = 512
REDUCE_ANSWER_TOKENS = 400
MAX_ENTRIES = 12

SYSTEM = ("You write meeting notes from a transcript. Use only what the transcript says; never invent "
          "names, tasks or dates. Answer with JSON only.")

MAP_INSTRUCTIONS = """Transcript lines, each starting with its number in brackets:

{lines}

Write the notes of this part of the meeting as JSON:
- summary: two to four sentences on what was discussed.
- decisions: what the participants agreed or decided.
- action_items: each task a person committed to do. owner: who will do it (the speaker when they speak of \
themselves), null if unclear. task: what they will do. due: the deadline they said, null when none was said. \
line: the number of the line where it was said.
- open_questions: questions asked that nobody answered.
Use empty lists when there are none."""

REDUCE_INSTRUCTIONS = """These are the notes of consecutive parts of one meeting:

{parts}

Merge them into the notes of the whole meeting as JSON:
- summary: three to six sentences on what the meeting discussed and concluded.
- decisions: every decision, each once.
- open_questions: the questions still open at the end, each once."""


class NotesBackend(Protocol):
    """A language model that answers a prompt with JSON matching a schema."""

    name: str  # "local" | "ollama" | "openai"
    model: str
    context_tokens: int

    def complete(self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int,
                 cancelled: threading.Event | None) -> str:
        """The model's answer, JSON text matching `schema`. Raises NotesBackendFailed."""
        ...


class NotesCancelled(Exception):
    """Making the notes was cancelled; the stored notes are unchanged."""


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, across the whole transcript
    segment: TranscriptSegment

    def render(self) -> str:
        text = " ".join(self.segment.text.split())
        return f"[{self.number}] {self.segment.speaker or 'Speaker'}: {text}"


@dataclass
class PartialNotes:
    summary: str
    decisions: list[str]
    action_items: list[tuple[str, str | None, str | None, int]]  # task, owner, due, line number
    open_questions: list[str]


def chunk_lines(lines: list[Line], budget_chars: int) -> list[list[Line]]:
    """Consecutive lines in chunks of at most `budget_chars` rendered characters (a line
    longer than that is a chunk of its own)."""
    chunks: list[list[Line]] = []
    current: list[Line] = []
    size = 0
    for line in lines:
        length = len(line.render()) + 1
        if current and size + length > budget_chars:
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        chunks.append(current)
    return chunks


def chunk_budget(context_tokens: int) -> int:
    """How many transcript characters fit one map call of a model with this context."""
    tokens = context_tokens - PROMPT_TOKENS - MAP_ANSWER_TOKENS
    if tokens < 200:
        raise NotesUnavailable(f"A context of {context_tokens} tokens is too small for meeting notes")
    return int(tokens * CHARS_PER_TOKEN)


# Free text. Length and character limits are left out on purpose: llama.cpp expands them into
# grammars too large to load, and a model whose wanted token the grammar rejects is slow to
# sample (a small model's vocabulary is 262k tokens); the token budget bounds an answer instead.
TEXT: dict[str, Any] = {"type": "string"}


def _texts(max_items: int = MAX_ENTRIES) -> dict[str, Any]:
    return {"type": "array", "maxItems": max_items, "items": TEXT}


def _optional_text() -> dict[str, Any]:
    return {"anyOf": [TEXT, {"type": "null"}]}


def map_schema(line_numbers: list[int]) -> dict[str, Any]:
    """The partial notes of one chunk; `line` can only be one of the chunk's line numbers."""
    item = {"type": "object", "additionalProperties": False,
            "properties": {"owner": _optional_text(),
                           "task": TEXT,
                           "due": _optional_text(), "line": {"type": "integer", "enum": line_numbers}},
            "required": ["owner", "task", "due", "line"]}
    return {"type": "object", "additionalProperties": False,
            "properties": {"summary": TEXT,
                           "decisions": _texts(),
                           "action_items": {"type": "array", "maxItems": MAX_ENTRIES, "items": item},
                           "open_questions": _texts()},
            "required": ["summary", "decisions", "action_items", "open_questions"]}


REDUCE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {"summary": TEXT,
                   "decisions": _texts(2 * MAX_ENTRIES), "open_questions": _texts(2 * MAX_ENTRIES)},
    "required": ["summary", "decisions", "open_questions"]}


def _answer(backend: NotesBackend, prompt: str, schema: dict[str, Any], max_tokens: int,
            cancelled: threading.Event | None) -> dict[str, Any]:
    if cancelled is not None and cancelled.is_set():
        raise NotesCancelled()
    text = backend.complete(SYSTEM, prompt, schema, max_tokens, cancelled)
    if cancelled is not None and cancelled.is_set():
        raise NotesCancelled()
    try:
        data = parse_answer(_without_fence(text))
    except ValueError:
        raise NotesBackendFailed(f"The {backend.name} model {backend.model} answered with text that is not JSON",
                                 details={"backend": backend.name}) from None
    if not isinstance(data, dict):
        raise NotesBackendFailed(f"The {backend.name} model {backend.model} answered with JSON that is not an object",
                                 details={"backend": backend.name})
    return data


def parse_answer(text: str) -> Any:
    """The JSON value of an answer, also when the model's token budget ran out in the middle
    of it: schema-constrained output is then a valid beginning of JSON, which is closed after
    its last complete value (an open string is closed where it stopped)."""
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []  # where the text may end, and what closes it there
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
            cuts.append((index + 1, "".join(reversed(stack))))
        elif char in "}]" and stack:
            stack.pop()
            cuts.append((index + 1, "".join(reversed(stack))))
        elif char == ",":
            cuts.append((index, "".join(reversed(stack))))
    closers = "".join(reversed(stack))
    candidates = [text + '"' + closers] if in_string else [text + closers]
    candidates += [text[:index] + closing for index, closing in reversed(cuts)]
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)  # a raw line break inside a string is kept
        except ValueError:
            continue
    raise ValueError("not JSON")


def _without_fence(text: str) -> str:
    """The JSON inside a ```json fence, which endpoints without schema support sometimes add."""
    match = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", text, flags=re.DOTALL)
    return match.group(1) if match else text


def _strings(value: object) -> list[str]:
    """The distinct non-empty strings of a JSON list, in order."""
    seen: dict[str, str] = {}
    for entry in value if isinstance(value, list) else []:
        text = " ".join(str(entry).split()) if isinstance(entry, (str, int, float)) else ""
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return list(seen.values())


def _optional(value: object) -> str | None:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text if text and text.casefold() not in ("null", "none", "unknown", "n/a") else None


def _folded(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


_INSTRUCTIONS = _folded(MAP_INSTRUCTIONS.replace("{lines}", ""))


def _from_meeting(text: str | None, said: str) -> str | None:
    """`text` when its words were said in the meeting (`said`, folded), else None: an owner
    or a due date is never made up."""
    return text if text and _folded(text) and f" {_folded(text)} " in f" {said} " else None


def _not_instructions(entries: list[str]) -> list[str]:
    """Without entries that repeat the instructions instead of the meeting (small models do)."""
    return [entry for entry in entries if f" {_folded(entry)} " not in f" {_INSTRUCTIONS} "]


def map_chunk(backend: NotesBackend, chunk: list[Line], cancelled: threading.Event | None = None) -> PartialNotes:
    numbers = [line.number for line in chunk]
    prompt = MAP_INSTRUCTIONS.format(lines="\n".join(line.render() for line in chunk))
    data = _answer(backend, prompt, map_schema(numbers), MAP_ANSWER_TOKENS, cancelled)
    said = _folded(" ".join(f"{line.segment.speaker or ''} {line.segment.text}" for line in chunk))
    valid = set(numbers)
    items = []
    for raw in data.get("action_items") or []:
        task = _optional(raw.get("task")) if isinstance(raw, dict) else None
        line = raw.get("line") if isinstance(raw, dict) else None
        # An endpoint that ignores the schema may name a line outside the chunk: such an item
        # cannot be linked, so it is dropped rather than pointed at the wrong line.
        if task and _not_instructions([task]) and isinstance(line, int) and line in valid:
            items.append((task, _from_meeting(_optional(raw.get("owner")), said),
                          _from_meeting(_optional(raw.get("due")), said), line))
    return PartialNotes(_optional(data.get("summary")) or "", _not_instructions(_strings(data.get("decisions"))),
                        items, _not_instructions(_strings(data.get("open_questions"))))


def reduce_parts(backend: NotesBackend, parts: list[PartialNotes],
                 cancelled: threading.Event | None = None) -> tuple[str, list[str], list[str]]:
    """One summary, decisions and open questions from the parts' notes. Parts too many for
    one call are merged in halves first (a very long meeting), then those merges merged."""
    rendered = [json.dumps({"part": number, "summary": part.summary, "decisions": part.decisions,
                            "open_questions": part.open_questions}, ensure_ascii=False)
                for number, part in enumerate(parts, 1)]
    if len(parts) > 2 and sum(len(text) + 1 for text in rendered) > chunk_budget(backend.context_tokens):
        half = len(parts) // 2
        merged = []
        for group in (parts[:half], parts[half:]):
            summary, decisions, questions = reduce_parts(backend, group, cancelled)
            merged.append(PartialNotes(summary, decisions, [], questions))
        return reduce_parts(backend, merged, cancelled)
    data = _answer(backend, REDUCE_INSTRUCTIONS.format(parts="\n".join(rendered)), REDUCE_SCHEMA,
                   REDUCE_ANSWER_TOKENS, cancelled)
    return _optional(data.get("summary")) or "", _strings(data.get("decisions")), _strings(data.get("open_questions"))


def make_notes(session_id: str, segments: list[TranscriptSegment], backend: NotesBackend, *,
               progress: Callable[[float], None] | None = None,
               cancelled: threading.Event | None = None) -> MeetingNotes:
    """The meeting notes of a transcript. Blocking (minutes with a local model on a long
    meeting): run it off the event loop. Raises NotesCancelled when `cancelled` is set."""
    lines = [Line(number, seg) for number, seg in enumerate((s for s in segments if s.text.strip()), 1)]
    if not lines:
        raise NotesUnavailable(f"Session {session_id} has no transcript to make notes from")
    chunks = chunk_lines(lines, chunk_budget(backend.context_tokens))
    steps = len(chunks) + (1 if len(chunks) > 1 else 0)
    parts = []
    for done, chunk in enumerate(chunks, 1):
        parts.append(map_chunk(backend, chunk, cancelled))
        if progress is not None:
            progress(done / steps)
    if len(parts) == 1:
        summary, decisions, questions = parts[0].summary, parts[0].decisions, parts[0].open_questions
    else:
        summary, decisions, questions = reduce_parts(backend, parts, cancelled)
        if progress is not None:
            progress(1.0)
    by_number = {line.number: line.segment for line in lines}
    items: list[ActionItem] = []
    seen: set[tuple[str, int]] = set()
    for part in parts:
        for task, owner, due, number in part.action_items:
            if (task.casefold(), number) in seen:
                continue
            seen.add((task.casefold(), number))
            items.append(ActionItem(f"item-{len(items) + 1}", task, owner, due, by_number[number].transcript_id))
    return MeetingNotes(session_id, summary, decisions, items, questions, backend.name, backend.model)
