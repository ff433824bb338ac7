"""Transcript exports: one session and its final segments as TXT, SRT, WebVTT, JSON,
Markdown or DOCX bytes, plus the file name to save them under. Markdown, DOCX and JSON
carry the session's meeting notes too, when it has some.

Every format is built in one pass over the segments (text as lists joined once, DOCX
paragraphs inserted in constant time), so export time grows linearly with the meeting.
Human-readable formats share one set of meeting facts and one speaker grouping; JSON keeps
the stored data verbatim.
"""
from __future__ import annotations

import io
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.errors import ValidationError
from app.models import DEFAULT_BOT_NAME, PLATFORM_NAMES, Session, TranscriptSegment
from app.notes.models import MeetingNotes
from app.talk_time import talk_time
from app.text import clean_text
from app.timeutil import parse_iso
from app.titles import session_title
from app.workers import LockBreaks

UNKNOWN_SPEAKER = "Unknown speaker"
_MISSING = "—"
_TXT_WIDTH = 80


# JSON keeps the documented transcript fields (API.md), in that order.
_JSON_SEGMENT_FIELDS = (
    "transcript_id", "text", "confidence", "start_time", "end_time", "speaker",
    "language_code", "created_at",
)


@dataclass(frozen=True)
class ExportFormat:
    name: str  # human-readable label, e.g. for a save dialog's filter list
    extension: str
    content_type: str


FORMATS: dict[str, ExportFormat] = {
    "txt": ExportFormat("Plain text", "txt", "text/plain; charset=utf-8"),
    "srt": ExportFormat("SubRip subtitles", "srt", "application/x-subrip; charset=utf-8"),
    "vtt": ExportFormat("WebVTT subtitles", "vtt", "text/vtt; charset=utf-8"),
    "json": ExportFormat("JSON", "json", "application/json"),
    "md": ExportFormat("Markdown", "md", "text/markdown; charset=utf-8"),
    "docx": ExportFormat(
        "Word document", "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}


@dataclass(frozen=True)
class SpeakerBlock:
    """Consecutive segments of one speaker (None when the speaker is not known)."""

    speaker: str | None
    segments: tuple[TranscriptSegment, ...]

    @property
    def label(self) -> str:
        return self.speaker or UNKNOWN_SPEAKER

    @property
    def start_time(self) -> float:
        return self.segments[0].start_time

    @property
    def end_time(self) -> float:
        return max(s.end_time for s in self.segments)

    @property
    def text(self) -> str:
        return " ".join(clean_text(s.text) for s in self.segments)


def _speaker_of(segment: TranscriptSegment) -> str | None:
    return clean_text(segment.speaker) or None


# --- timestamps --------------------------------------------------------------------------

def _check_seconds(seconds: float) -> float:
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"a timestamp must be a finite number of seconds, got {seconds!r}")
    return max(0.0, float(seconds))


def _split_ms(total_ms: int) -> tuple[int, int, int, int]:
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return hours, minutes, secs, millis


def _ms_timestamp(total_ms: int, sep: str) -> str:
    hours, minutes, secs, millis = _split_ms(total_ms)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def format_timestamp(seconds: float, sep: str = ",") -> str:
    """`HH:MM:SS,mmm` (SRT; pass sep="." for WebVTT). Negative times read as 0; hours grow
    past two digits rather than wrap."""
    return _ms_timestamp(round(_check_seconds(seconds) * 1000), sep)


def _clock(seconds: float) -> str:
    """`HH:MM:SS`, truncated to the second, for headings."""
    hours, minutes, secs, _ = _split_ms(int(_check_seconds(seconds)) * 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _cue_ms(segment: TranscriptSegment) -> tuple[int, int]:
    """Cue start and end in ms; the end is always at least 1 ms after the start so every
    player accepts the cue (zero-length and inverted segments exist)."""
    start = round(_check_seconds(segment.start_time) * 1000)
    end = round(_check_seconds(segment.end_time) * 1000)
    return start, max(end, start + 1)


# --- ordering and grouping ---------------------------------------------------------------

def _ordered(segments: Iterable[TranscriptSegment]) -> list[TranscriptSegment]:
    """Segments by start time (stable); a segment with a non-finite time is refused."""
    ordered = list(segments)
    for segment in ordered:
        for name in ("start_time", "end_time"):
            value = getattr(segment, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValidationError(
                    f"Transcript segment {segment.transcript_id!r} has an invalid {name}: {value!r}",
                    field=name,
                )
    ordered.sort(key=lambda s: s.start_time)
    return ordered


def _spoken(segments: Iterable[TranscriptSegment]) -> list[TranscriptSegment]:
    """Ordered segments that carry text; blank ones would make empty cues and headings."""
    return [s for s in _ordered(segments) if clean_text(s.text)]


def group_by_speaker(segments: Iterable[TranscriptSegment]) -> list[SpeakerBlock]:
    """Consecutive segments of the same speaker, in time order, blank segments left out."""
    blocks: list[SpeakerBlock] = []
    run: list[TranscriptSegment] = []
    speaker: str | None = None
    for segment in _spoken(segments):
        this = _speaker_of(segment)
        if run and this != speaker:
            blocks.append(SpeakerBlock(speaker, tuple(run)))
            run = []
        speaker = this
        run.append(segment)
    if run:
        blocks.append(SpeakerBlock(speaker, tuple(run)))
    return blocks


# --- meeting facts shared by TXT, Markdown and DOCX ----------------------------------------

def _parse_time(value: str | None) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def _display_time(value: str | None) -> str:
    parsed = _parse_time(value)
    if parsed is None:
        return clean_text(value) or _MISSING
    return parsed.strftime("%Y-%m-%d %H:%M:%S UTC")


def _platform_name(session: Session) -> str:
    return PLATFORM_NAMES.get(session.platform, clean_text(session.platform) or _MISSING)


def _start_time(session: Session) -> datetime | None:
    return _parse_time(session.join_timestamp) or _parse_time(session.created_at)


def _duration_seconds(session: Session) -> float | None:
    if session.total_duration_seconds is not None and math.isfinite(session.total_duration_seconds):
        return session.total_duration_seconds
    joined, left = _parse_time(session.join_timestamp), _parse_time(session.leave_timestamp)
    if joined and left:
        return (left - joined).total_seconds()
    return None


def _title(session: Session) -> str:
    """The session's title (app.titles), with the day it was held."""
    started = _start_time(session)
    title = clean_text(session_title(session))
    return f"{title} — {started.strftime('%Y-%m-%d')}" if started else title


def _facts(session: Session) -> list[tuple[str, str]]:
    status = clean_text(session.status)
    if session.error_code:
        status = f"{status} ({clean_text(session.error_code)})"
    duration = _duration_seconds(session)
    return [
        ("Platform", _platform_name(session)),
        ("Meeting link", clean_text(session.meeting_link) or _MISSING),
        ("Status", status or _MISSING),
        ("Started", _display_time(session.join_timestamp or session.created_at)),
        ("Ended", _display_time(session.leave_timestamp)),
        ("Duration", _clock(duration) if duration is not None else _MISSING),
        ("Language", clean_text(session.transcription_language) or _MISSING),
        ("Session ID", clean_text(session.session_id) or _MISSING),
    ]


def _participant_entry(key: object, value: object) -> tuple[str, bool]:
    """(name, is_bot) of one current_participants entry: a record keyed by id, or a name
    key with any value."""
    if isinstance(value, dict):
        name = value.get("name") or value.get("participant_name") or value.get("display_name") or key
        return clean_text(str(name)), bool(value.get("is_bot"))
    return clean_text(str(key)), False


def participant_names(session: Session) -> list[str]:
    """People seen in the meeting, each once, in order of first appearance: the join/leave
    history first, then anyone present who is missing from it. The bot is left out."""
    entries = [
        (clean_text(str(event.get("participant_name") or event.get("name") or "")), bool(event.get("is_bot")))
        for event in session.participant_history if isinstance(event, dict)
    ]
    entries += [_participant_entry(k, v) for k, v in session.current_participants.items()]
    seen: dict[str, None] = {}
    for name, is_bot in entries:
        if name and not is_bot:
            seen.setdefault(name, None)
    return list(seen)


def _talk_time(segments: Sequence[TranscriptSegment]) -> tuple[list[tuple[str, str, str]], str]:
    """The "Talk time" section of Markdown and DOCX: (speaker, talk time, share) rows, most
    talk first, and a sentence on the time anyone spoke ("" when nobody did)."""
    counted = talk_time(segments)
    rows = [(s.speaker or UNKNOWN_SPEAKER, _clock(s.seconds), f"{s.percentage:.1f}%")
            for s in counted.speakers]
    if not rows:
        return rows, ""
    note = f"Someone was speaking for {_clock(counted.speech_seconds)}"
    if _clock(counted.overlap_seconds) != _clock(0):
        note += f", two or more people at once for {_clock(counted.overlap_seconds)}"
    return rows, note + "."


_TALK_TIME_HEADER = ("Speaker", "Talk time", "Share")


# --- the formats ---------------------------------------------------------------------------

def _txt(session: Session, segments: Sequence[TranscriptSegment]) -> str:
    facts = " | ".join(f"{label}: {value}" for label, value in _facts(session) if value != _MISSING)
    lines = [_title(session), facts, ""]
    wrapper = textwrap.TextWrapper(width=_TXT_WIDTH, break_long_words=False, break_on_hyphens=False)
    blocks = group_by_speaker(segments)
    for block in blocks:
        lines.append(f"[{_clock(block.start_time)}] {block.label}:")
        lines.extend(wrapper.wrap(block.text))
        lines.append("")
    if not blocks:
        lines += ["No transcript.", ""]
    return "\n".join(lines)


def srt_text(text: str) -> str:
    """SRT has no escapes: a cue's text must not read as a timing line or as the markup
    (<b>, <i>, <font>) players interpret, so those characters are replaced by look-alikes."""
    return text.replace("-->", "->").replace("<", "\u2039").replace(">", "\u203a")


def _srt(session: Session, segments: Sequence[TranscriptSegment]) -> str:
    cues = []
    for number, segment in enumerate(_spoken(segments), start=1):
        start, end = _cue_ms(segment)
        speaker, text = _speaker_of(segment), srt_text(clean_text(segment.text))
        line = f"{srt_text(speaker)}: {text}" if speaker else text
        cues.append(f"{number}\n{_ms_timestamp(start, ',')} --> {_ms_timestamp(end, ',')}\n{line}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt(session: Session, segments: Sequence[TranscriptSegment]) -> str:
    cues = ["WEBVTT\n"]
    for segment in _spoken(segments):
        start, end = _cue_ms(segment)
        speaker, text = _speaker_of(segment), _vtt_escape(clean_text(segment.text))
        line = f"<v {_vtt_escape(speaker)}>{text}" if speaker else text
        cues.append(f"{_ms_timestamp(start, '.')} --> {_ms_timestamp(end, '.')}\n{line}\n")
    return "\n".join(cues) + ("\n" if len(cues) == 1 else "")


def _json(session: Session, segments: Sequence[TranscriptSegment], notes: MeetingNotes | None) -> bytes:
    document: dict[str, object] = {
        "session": session.to_dict(),
        "transcripts": [
            {name: getattr(s, name) for name in _JSON_SEGMENT_FIELDS} for s in _ordered(segments)
        ],
    }
    if notes is not None:
        document["notes"] = notes.to_dict()
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; \u escapes keep it exactly and stay valid JSON.
        return json.dumps(document, indent=2, ensure_ascii=True).encode("ascii")


# Always significant in CommonMark/GFM inline text; backslash-escaping them is always valid.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~!])")
# Significant only at the start of a line: headings, bullets, setext underlines, and the
# dot or parenthesis of an ordered-list number.
_MD_LINE_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """User text as Markdown that renders as exactly that text."""
    escaped = _MD_INLINE.sub(r"\\\1", clean_text(text))
    match = _MD_LINE_START.match(escaped)
    if match is None:
        return escaped
    if match.group(1).isdigit():  # "1." -> "1\.": a backslash before a digit is literal
        end = match.end()
        return f"{escaped[:end]}\\{escaped[end:]}"
    return f"\\{escaped}"


_PLAIN_URL = re.compile(r"https?://[^\s<>\\]+")


def _md_link(link: str) -> str:
    cleaned = clean_text(link)
    return f"<{cleaned}>" if _PLAIN_URL.fullmatch(cleaned) else md_escape(cleaned)


def _action_line(item: ActionItemView) -> str:
    """An action item in words: the task, who, by when, and where it was said."""
    who = f" — {item.owner}" if item.owner else ""
    due = f", due {item.due}" if item.due else ""
    said = f" (said at {_clock(item.said_at)})" if item.said_at is not None else ""
    return f"{item.task}{who}{due}{said}"


@dataclass(frozen=True)
class ActionItemView:
    task: str
    owner: str | None
    due: str | None
    said_at: float | None  # the session time of the line it came from
    done: bool


def _action_items(notes: MeetingNotes, line_times: dict[str, float]) -> list[ActionItemView]:
    return [ActionItemView(clean_text(i.task), clean_text(i.owner) if i.owner else None,
                           clean_text(i.due) if i.due else None, line_times.get(i.transcript_id), i.done)
            for i in notes.action_items]


def _notes_sections(notes: MeetingNotes) -> list[tuple[str, list[str]]]:
    return [("Decisions", notes.decisions), ("Open questions", notes.open_questions)]


def notes_markdown(notes: MeetingNotes, line_times: dict[str, float], level: int = 2) -> str:
    """The meeting notes as Markdown; `line_times` gives the time of each transcript line."""
    heading = "#" * level
    lines = [f"{heading} Meeting notes", "", md_escape(notes.summary) or "_No summary._", ""]
    lines += [f"{heading}# Action items", ""]
    items = _action_items(notes, line_times)
    lines += [f"- [{'x' if i.done else ' '}] {md_escape(_action_line(i))}" for i in items] or ["_None._"]
    for title, entries in _notes_sections(notes):
        lines += ["", f"{heading}# {title}", ""]
        lines += [f"- {md_escape(entry)}" for entry in entries] or ["_None._"]
    return "\n".join(lines) + "\n"


def _line_times(segments: Sequence[TranscriptSegment]) -> dict[str, float]:
    return {s.transcript_id: s.start_time for s in segments}


def _md(session: Session, segments: Sequence[TranscriptSegment], notes: MeetingNotes | None) -> str:
    lines = [f"# {md_escape(_title(session))}", ""]
    for label, value in _facts(session):
        shown = _md_link(value) if label == "Meeting link" and value != _MISSING else md_escape(value)
        lines.append(f"- **{label}:** {shown}")
    if notes is not None:
        lines += ["", notes_markdown(notes, _line_times(segments)).rstrip("\n")]
    lines += ["", "## Participants", ""]
    names = participant_names(session)
    lines += [f"- {md_escape(name)}" for name in names] or ["_No participants recorded._"]
    lines += ["", "## Talk time", ""]
    rows, note = _talk_time(segments)
    if rows:
        lines += [f"| {' | '.join(_TALK_TIME_HEADER)} |", "| --- | ---: | ---: |"]
        lines += [f"| {md_escape(who)} | {spoken} | {share} |" for who, spoken, share in rows]
        lines += ["", md_escape(note)]
    else:
        lines.append("_No speech transcribed._")
    lines += ["", "## Transcript", ""]
    blocks = group_by_speaker(segments)
    for block in blocks:
        lines += [f"**{md_escape(block.label)}** — {_clock(block.start_time)}", "",
                  md_escape(block.text), ""]
    if not blocks:
        lines += ["_No transcript._", ""]
    return "\n".join(lines)


def _docx(session: Session, segments: Sequence[TranscriptSegment], notes: MeetingNotes | None) -> bytes:
    from docx import Document  # heavy import, paid only when a DOCX is asked for
    from docx.shared import Pt, RGBColor

    title = _title(session)
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = clean_text(session.bot_name) or DEFAULT_BOT_NAME
    started = _start_time(session)
    if started is not None:
        document.core_properties.created = started
    document.add_heading(title, level=0)

    facts = _facts(session)
    table = document.add_table(rows=len(facts), cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(table.rows, facts):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].text = value

    if notes is not None:
        document.add_heading("Meeting notes", level=1)
        document.add_paragraph(clean_text(notes.summary))
        document.add_heading("Action items", level=2)
        for item in _action_items(notes, _line_times(segments)):
            document.add_paragraph(("\u2611 " if item.done else "\u2610 ") + _action_line(item), style="List Bullet")
        for title, entries in _notes_sections(notes):
            document.add_heading(title, level=2)
            for entry in entries:
                document.add_paragraph(clean_text(entry), style="List Bullet")
            if not entries:
                document.add_paragraph().add_run("None.").italic = True

    document.add_heading("Participants", level=1)
    names = participant_names(session)
    for name in names:
        document.add_paragraph(name, style="List Bullet")
    if not names:
        document.add_paragraph().add_run("No participants recorded.").italic = True

    document.add_heading("Talk time", level=1)
    rows, note = _talk_time(segments)
    if rows:
        talk = document.add_table(rows=len(rows) + 1, cols=len(_TALK_TIME_HEADER))
        talk.style = "Table Grid"
        for cell, label in zip(talk.rows[0].cells, _TALK_TIME_HEADER):
            cell.paragraphs[0].add_run(label).bold = True
        for row, values in zip(talk.rows[1:], rows):
            for cell, value in zip(row.cells, values):
                cell.text = value
        document.add_paragraph(note)
    else:
        document.add_paragraph().add_run("No speech transcribed.").italic = True

    document.add_heading("Transcript", level=1)
    blocks = group_by_speaker(segments)
    if not blocks:
        document.add_paragraph().add_run("No transcript.").italic = True
    # Appending to the body scans all of it each time (quadratic for a long meeting), while
    # inserting before a known paragraph does not: the transcript is built backwards.
    anchor = None
    pause = LockBreaks()  # the window's thread gets its turns while the paragraphs are built
    for block in reversed(blocks):
        pause()
        said = anchor.insert_paragraph_before(block.text) if anchor else document.add_paragraph(block.text)
        heading = said.insert_paragraph_before()
        # Direct formatting: assigning a named style looks it up among all styles per call.
        heading.paragraph_format.keep_with_next = True
        heading.paragraph_format.space_after = Pt(0)
        heading.add_run(block.label).bold = True
        stamp = heading.add_run(f"  {_clock(block.start_time)}")
        stamp.font.color.rgb = RGBColor(0x6B, 0x6B, 0x6B)
        anchor = heading

    pause()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


Builder = Callable[[Session, Sequence[TranscriptSegment], "MeetingNotes | None"], bytes]


def _utf8(build: Callable[[Session, Sequence[TranscriptSegment]], str]) -> Builder:
    """A builder of a format that carries no notes."""
    return lambda session, segments, notes: build(session, segments).encode("utf-8")


_BUILDERS: dict[str, Builder] = {
    "txt": _utf8(_txt),
    "srt": _utf8(_srt),
    "vtt": _utf8(_vtt),
    "json": _json,
    "md": lambda session, segments, notes: _md(session, segments, notes).encode("utf-8"),
    "docx": _docx,
}


# --- public entry points -------------------------------------------------------------------

def _resolve(fmt: str) -> str:
    """The format key for `fmt` ("SRT" and ".srt" are accepted too)."""
    key = fmt.strip().lower().lstrip(".") if isinstance(fmt, str) else None
    if key not in FORMATS:
        raise ValidationError(
            f"Unknown export format {fmt!r}; valid formats: {', '.join(FORMATS)}",
            field="format",
            details={"valid": list(FORMATS)},
        )
    return key


def export_transcript(session: Session, segments: Sequence[TranscriptSegment], fmt: str,
                      notes: MeetingNotes | None = None) -> bytes:
    """The session's transcript as the bytes of a `fmt` file (a key of FORMATS); Markdown,
    DOCX and JSON include `notes`, the session's meeting notes, when given."""
    return _BUILDERS[_resolve(fmt)](session, segments, notes)


_UNSAFE_NAME_CHARS = re.compile(r"[^a-z0-9_]+")


def _slug(text: str) -> str:
    return _UNSAFE_NAME_CHARS.sub("-", text.lower()).strip("-")


def export_filename(session: Session, fmt: str) -> str:
    """A file name safe on every OS and in a Content-Disposition header, e.g.
    `meeting-buddy_teams_2026-11-26_mbsess_xxx.vtt`."""
    key = _resolve(fmt)
    started = _start_time(session)
    parts = [
        "meeting-buddy",
        _slug(session.platform or "") or "meeting",
        started.strftime("%Y-%m-%d") if started else "undated",
        _slug(session.session_id or "") or "session",
    ]
    return f"{'_'.join(parts)}.{FORMATS[key].extension}"


def export_segments(segments: Sequence[TranscriptSegment], fmt: str) -> bytes:
    """A bare transcript with no meeting around it (a transcribed file): txt, srt, vtt or json.

    TXT and JSON leave out the meeting facts; SRT and VTT are the same as for a session.
    """
    key = _resolve(fmt)
    if key in ("srt", "vtt"):
        return _BUILDERS[key](None, segments, None)  # type: ignore[arg-type]  # cues never use it
    if key == "json":
        return json.dumps({"transcripts": [{n: getattr(s, n) for n in _JSON_SEGMENT_FIELDS}
                                           for s in _ordered(segments)]},
                          indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if key == "txt":
        lines = []
        for block in group_by_speaker(segments):
            who = f" {block.label}:" if block.speaker else ""
            lines.append(f"[{_clock(block.start_time)}]{who} {block.text}")
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    raise ValidationError("A file transcript can be written as txt, srt, vtt or json",
                          field="format", details={"valid": ["txt", "srt", "vtt", "json"]})
