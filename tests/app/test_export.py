"""Transcript exports: every format is re-read the way a user's tool would read it (strict
SRT and WebVTT parsers, json, python-docx, Markdown structure) and must give back the
meeting facts, the speakers and the text that went in."""
from __future__ import annotations

import html
import io
import json
import re

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ValidationError
from app.export import (
    FORMATS,
    clean_text,
    export_filename,
    export_transcript,
    format_timestamp,
    group_by_speaker,
    participant_names,
    srt_text,
)
from app.models import ParticipantEvent, Session, Status, TranscriptSegment
from app.talk_time import talk_time

LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=x&y=1"
TITLE = "Teams meeting · abc — 2026-11-26"  # the name taken from the link, and the day


# --- fixtures --------------------------------------------------------------------------------

def make_session(**changes) -> Session:
    session = Session.create(meeting_link=LINK, platform="teams")
    session.status = Status.COMPLETED
    session.join_timestamp = "2026-11-26T10:00:00.000Z"
    session.leave_timestamp = "2026-11-26T13:05:00.000Z"
    session.total_duration_seconds = 11100.0
    sid = session.session_id
    session.participant_history = [
        ParticipantEvent(sid, "Alice", "joined").to_dict(),
        ParticipantEvent(sid, "Meeting Buddy", "joined", is_bot=True).to_dict(),
        ParticipantEvent(sid, "Bob", "joined").to_dict(),
        ParticipantEvent(sid, "Alice", "left").to_dict(),
        ParticipantEvent(sid, "Zoë", "joined").to_dict(),
    ]
    session.current_participants = {"p-2": {"name": "Bob"}, "p-7": {"name": "Late <Larry>"}}
    for key, value in changes.items():
        setattr(session, key, value)
    return session


def seg(session: Session, text: str, start: float, end: float, speaker: str | None = None,
        **kw) -> TranscriptSegment:
    return TranscriptSegment.create(session.session_id, text, start, end, speaker=speaker,
                                    confidence=0.9, **kw)


@pytest.fixture
def session() -> Session:
    return make_session()


@pytest.fixture
def segments(session: Session) -> list[TranscriptSegment]:
    return [
        seg(session, "Hello everyone, welcome.", 0.0, 2.5, "Alice"),
        seg(session, "Agenda: <b>budget</b> & *stars* _under_ [link](x) `code` |pipe| ~tilde~",
            2.5, 4.0, "Alice"),
        seg(session, "zero length", 4.0, 4.0),
        seg(session, "Zoë says naïve café — 日本語 ✓", 5.0, 7.25, "Bob"),
        seg(session, "# not a heading\nsecond  line", 7.25, 8.0, "Bob"),
        seg(session, "1. not a list", 10.0, 10.4),
        seg(session, "   ", 10.5, 10.9, "Bob"),  # blank: no cue, and does not split a block
        seg(session, "- nor a bullet", 11.0, 12.0, None),
        seg(session, "Closing --> remarks & thanks", 10900.5, 10905.123, "Alice",
            language_code="de"),
    ]


# expected (speaker, text) of the spoken segments, in order
def spoken(segments: list[TranscriptSegment]) -> list[tuple[str | None, str]]:
    return [(s.speaker, clean_text(s.text)) for s in segments if s.text.strip()]


# --- strict subtitle parsers -------------------------------------------------------------------

def _ms(h: str, m: str, s: str, ms: str) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


SRT_TIMING = re.compile(
    r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d),(\d{3})")
VTT_TIMING = re.compile(
    r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")


def _cue_blocks(body: str) -> list[list[str]]:
    assert "\r" not in body
    if not body:
        return []
    assert body.endswith("\n") and not body.endswith("\n\n\n")
    blocks = body[:-1].split("\n\n")
    assert all(block and not block.startswith("\n") for block in blocks), "stray blank lines"
    return [block.split("\n") for block in blocks]


def _timing(pattern: re.Pattern, line: str) -> tuple[int, int]:
    match = pattern.fullmatch(line)
    assert match, f"bad timing line {line!r}"
    g = match.groups()
    start, end = _ms(*g[:4]), _ms(*g[4:])
    assert end > start, f"cue ends at or before its start: {line!r}"
    return start, end


def parse_srt(data: bytes) -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, text) per cue; fails on anything a strict SubRip reader refuses."""
    cues = []
    for number, lines in enumerate(_cue_blocks(data.decode("utf-8")), start=1):
        assert lines[0] == str(number), f"cue numbering broken at {lines[0]!r}"
        start, end = _timing(SRT_TIMING, lines[1])
        text = lines[2:]
        assert text and all(line.strip() for line in text)
        cues.append((start, end, "\n".join(text)))
    return cues


def parse_vtt(data: bytes) -> list[tuple[int, int, str | None, str]]:
    """(start_ms, end_ms, voice, text) per cue, entities decoded."""
    body = data.decode("utf-8")
    assert body.startswith("WEBVTT\n\n")
    cues = []
    for lines in _cue_blocks(body[len("WEBVTT\n\n"):]):
        start, end = _timing(VTT_TIMING, lines[0])
        payload = "\n".join(lines[1:])
        assert payload.strip() and "-->" not in payload
        voice = None
        match = re.match(r"<v ([^>]+)>", payload)
        if match:
            voice, payload = html.unescape(match.group(1)), payload[match.end():]
        assert "<" not in payload and ">" not in payload, f"unescaped markup in {payload!r}"
        assert re.search(r"&(?!amp;|lt;|gt;)", payload) is None, f"bare & in {payload!r}"
        cues.append((start, end, voice, html.unescape(payload)))
    return cues


# --- timestamps and grouping -----------------------------------------------------------------

def test_format_timestamp():
    assert format_timestamp(0) == "00:00:00,000"
    assert format_timestamp(3.5) == "00:00:03,500"
    assert format_timestamp(10905.123) == "03:01:45,123"
    assert format_timestamp(59.9996) == "00:01:00,000"  # rounds into the next second
    assert format_timestamp(360000.0, sep=".") == "100:00:00.000"  # hours never wrap
    assert format_timestamp(-2.0) == "00:00:00,000"
    with pytest.raises(ValueError):
        format_timestamp(float("nan"))


def test_group_by_speaker_merges_consecutive_and_names_unknown(segments):
    blocks = group_by_speaker(segments)
    assert [(b.speaker, b.label, len(b.segments)) for b in blocks] == [
        ("Alice", "Alice", 2),
        (None, "Unknown speaker", 1),
        ("Bob", "Bob", 2),
        (None, "Unknown speaker", 2),  # the blank Bob segment between them is dropped
        ("Alice", "Alice", 1),
    ]
    assert blocks[2].text == "Zoë says naïve café — 日本語 ✓ # not a heading second line"
    assert (blocks[0].start_time, blocks[0].end_time) == (0.0, 4.0)


def test_group_by_speaker_orders_by_start_time(segments):
    shuffled = segments[::-1]
    assert group_by_speaker(shuffled) == group_by_speaker(segments)


def test_participants_unique_in_join_order_without_the_bot(session):
    assert participant_names(session) == ["Alice", "Bob", "Zoë", "Late <Larry>"]


# --- SRT / VTT ---------------------------------------------------------------------------------

def test_srt_round_trip(session, segments):
    cues = parse_srt(export_transcript(session, segments, "srt"))
    expected = spoken(segments)
    assert len(cues) == len(expected)
    for (start, end, line), (speaker, text), source in zip(cues, expected,
                                                            [s for s in segments if s.text.strip()]):
        assert start == round(source.start_time * 1000)
        assert end == max(round(source.end_time * 1000), start + 1)
        if speaker:
            name, _, said = line.partition(": ")
            assert (name, said) == (srt_text(speaker), srt_text(text))
        else:
            assert line == srt_text(text)
    # SRT has no escapes: markup a player would render and arrows that would read as a timing
    # line become look-alike characters.
    assert cues[1][2].startswith("Alice: Agenda: \u2039b\u203abudget\u2039/b\u203a")
    assert cues[2][:2] == (4000, 4001)  # zero-length segment gets a 1 ms cue
    assert cues[-1][:2] == (10900500, 10905123)


def test_srt_starts_never_go_backwards(session, segments):
    cues = parse_srt(export_transcript(session, segments[::-1], "srt"))
    starts = [c[0] for c in cues]
    assert starts == sorted(starts)


def test_vtt_round_trip(session, segments):
    data = export_transcript(session, segments, "vtt")
    cues = parse_vtt(data)
    assert [(voice, text) for _, _, voice, text in cues] == spoken(segments)
    assert "&lt;b&gt;budget&lt;/b&gt; &amp; *stars*" in data.decode()
    assert "Closing --&gt; remarks" in data.decode()
    assert cues[2][:2] == (4000, 4001)
    assert cues[-1][:2] == (10900500, 10905123)


def test_inverted_segment_still_makes_a_valid_cue(session):
    segment = seg(session, "backwards", 20.0, 19.0, "Alice")
    assert parse_srt(export_transcript(session, [segment], "srt"))[0][:2] == (20000, 20001)
    assert parse_vtt(export_transcript(session, [segment], "vtt"))[0][:2] == (20000, 20001)


speakers = st.one_of(st.none(), st.text(min_size=1, max_size=20))
texts = st.text(min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(texts, speakers, st.floats(0, 20000), st.floats(0, 30)), max_size=8))
def test_vtt_and_srt_survive_any_text(items):
    session = make_session()
    segments = [seg(session, text, start, start + length, speaker)
                for text, speaker, start, length in items]
    expected = [(clean_text(s.speaker) or None, clean_text(s.text))
                for s in sorted(segments, key=lambda s: s.start_time) if clean_text(s.text)]
    vtt = parse_vtt(export_transcript(session, segments, "vtt"))
    assert [(voice, text) for _, _, voice, text in vtt] == expected
    srt = parse_srt(export_transcript(session, segments, "srt"))
    assert [line for _, _, line in srt] == [f"{srt_text(v)}: {srt_text(t)}" if v else srt_text(t)
                                            for v, t in expected]


# --- JSON ----------------------------------------------------------------------------------------

def test_json_round_trip(session, segments):
    data = export_transcript(session, segments, "json")
    assert "Zoë".encode() in data  # real UTF-8, not \u escapes
    assert data.decode().splitlines()[1].startswith('  "session"')  # indent 2
    loaded = json.loads(data)
    assert loaded["session"] == session.to_dict()
    assert loaded["transcripts"] == [
        {k: s.to_dict()[k] for k in ("transcript_id", "text", "confidence", "start_time",
                                     "end_time", "speaker", "language_code", "created_at")}
        for s in sorted(segments, key=lambda s: s.start_time)
    ]
    assert "session_id" not in loaded["transcripts"][0]
    assert loaded["transcripts"][4]["text"] == "# not a heading\nsecond  line"  # verbatim


def test_json_keeps_text_that_has_no_utf8_form(session):
    segment = seg(session, "broken \udc80 surrogate", 1.0, 2.0)
    loaded = json.loads(export_transcript(session, [segment], "json").decode("utf-8"))
    assert loaded["transcripts"][0]["text"] == "broken \udc80 surrogate"


# --- TXT -----------------------------------------------------------------------------------------

def test_txt_header_and_speaker_groups(session, segments):
    text = export_transcript(session, segments, "txt").decode("utf-8")
    lines = text.split("\n")
    assert lines[0] == TITLE
    for fact in ("Platform: Microsoft Teams", f"Meeting link: {LINK}", "Status: completed",
                 "Duration: 03:05:00", "Language: en"):
        assert fact in lines[1]
    headings = [line for line in lines if re.fullmatch(r"\[\d{2}:\d{2}:\d{2}\] .+:", line)]
    assert headings == ["[00:00:00] Alice:", "[00:00:04] Unknown speaker:", "[00:00:05] Bob:",
                        "[00:00:10] Unknown speaker:", "[03:01:40] Alice:"]
    # each heading's paragraph holds the block's text, wrapped under 80 columns
    blocks = group_by_speaker(segments)
    paragraphs = text.split("\n\n")[1:]
    for block, paragraph in zip(blocks, paragraphs):
        heading, *body = paragraph.strip("\n").split("\n")
        assert heading.endswith(f"] {block.label}:")
        assert " ".join(body) == block.text
        assert all(len(line) <= 80 for line in body)


def test_txt_wraps_long_speech(session):
    long = " ".join(f"word{i}" for i in range(400))
    text = export_transcript(session, [seg(session, long, 0, 60, "Alice")], "txt").decode()
    body = text.split("[00:00:00] Alice:\n")[1].strip().split("\n")
    assert len(body) > 20 and all(len(line) <= 80 for line in body)
    assert " ".join(body) == long


# --- Markdown ------------------------------------------------------------------------------------

def md_unescape(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


MD_SPECIAL = set("\\`*_[]<>&|~!")


def assert_inert_markdown(escaped: str) -> None:
    """No unescaped Markdown syntax in a line of user text."""
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not MD_SPECIAL & set(bare), escaped
    assert not re.match(r"[#+=-]|\d+[.)]", escaped), escaped


def test_markdown_structure(session, segments):
    md = export_transcript(session, segments, "md").decode("utf-8")
    lines = md.split("\n")
    assert lines[0] == f"# {TITLE}"
    facts = dict(re.fullmatch(r"- \*\*(.+?):\*\* (.*)", line).groups()
                 for line in lines[2:lines.index("## Participants") - 1])
    assert facts["Platform"] == "Microsoft Teams"
    assert facts["Meeting link"] == f"<{LINK}>"
    assert facts["Status"] == "completed"
    assert facts["Started"] == "2026-11-26 10:00:00 UTC"
    assert facts["Duration"] == "03:05:00"
    assert facts["Language"] == "en"

    participants = lines[lines.index("## Participants") + 2:lines.index("## Talk time") - 1]
    assert [md_unescape(p[2:]) for p in participants] == participant_names(session)
    assert "- Late \\<Larry\\>" in participants

    transcript = lines[lines.index("## Transcript") + 2:]
    blocks = group_by_speaker(segments)
    headings = [i for i, line in enumerate(transcript) if line.startswith("**")]
    assert len(headings) == len(blocks)
    for i, block in zip(headings, blocks):
        name, stamp = re.fullmatch(r"\*\*(.+)\*\* — (\d{2}:\d{2}:\d{2})", transcript[i]).groups()
        assert md_unescape(name) == block.label
        assert stamp == format_timestamp(block.start_time)[:8]
        assert transcript[i + 1] == ""
        assert md_unescape(transcript[i + 2]) == block.text
        assert_inert_markdown(transcript[i + 2])
    assert "1\\. not a list" in md and "\\# not a heading" not in md  # '#' mid-paragraph


def test_markdown_escapes_line_start_syntax(session):
    for text in ("# title", "- item", "+ item", "12) item", "=== under", "> quote"):
        md = export_transcript(session, [seg(session, text, 0, 1, "A")], "md").decode()
        line = md.rstrip("\n").split("\n")[-1]
        assert md_unescape(line) == text
        assert_inert_markdown(line)


def test_markdown_without_participants():
    bare = make_session(participant_history=[], current_participants={})
    md = export_transcript(bare, [], "md").decode()
    assert "## Participants\n\n_No participants recorded._" in md


# --- DOCX ----------------------------------------------------------------------------------------

def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def test_docx_content(session, segments):
    document = open_docx(export_transcript(session, segments, "docx"))
    paragraphs = document.paragraphs
    assert paragraphs[0].style.name == "Title"
    assert paragraphs[0].text == TITLE
    assert document.core_properties.title == paragraphs[0].text

    table, _talk = document.tables
    assert len(table.columns) == 2
    facts = {row.cells[0].text: row.cells[1].text for row in table.rows}
    assert facts["Platform"] == "Microsoft Teams"
    assert facts["Meeting link"] == LINK
    assert facts["Ended"] == "2026-11-26 13:05:00 UTC"
    assert facts["Duration"] == "03:05:00"
    assert facts["Session ID"] == session.session_id
    assert all(row.cells[0].paragraphs[0].runs[0].bold for row in table.rows)

    texts = [p.text for p in paragraphs]
    bullets = [p.text for p in paragraphs if p.style.name == "List Bullet"]
    assert bullets == participant_names(session)

    body = paragraphs[texts.index("Transcript") + 1:]
    blocks = group_by_speaker(segments)
    assert len(body) == 2 * len(blocks)
    for block, heading, said in zip(blocks, body[::2], body[1::2]):
        assert heading.runs[0].bold and heading.runs[0].text == block.label
        assert not heading.runs[1].bold
        assert heading.runs[1].text.strip() == format_timestamp(block.start_time)[:8]
        assert said.text == block.text
    assert body[-2].runs[1].text.strip() == "03:01:40"


def test_docx_drops_characters_xml_cannot_hold(session):
    segment = seg(session, "bell\x07 null\x00 and \udc80 surrogate", 0, 1, "Ann\x1b")
    document = open_docx(export_transcript(session, [segment], "docx"))
    assert document.paragraphs[-2].runs[0].text == "Ann"
    assert document.paragraphs[-1].text == "bell null and \ufffd surrogate"


# --- talk time (Markdown and DOCX) -------------------------------------------------------------

def expected_talk_rows(segments: list[TranscriptSegment]) -> list[tuple[str, str, str]]:
    """(speaker, HH:MM:SS, share) as app.talk_time counts them: the API's numbers."""
    return [(s.speaker or "Unknown speaker", format_timestamp(int(s.seconds))[:8], f"{s.percentage:.1f}%")
            for s in talk_time(segments).speakers]


def md_cells(line: str) -> list[str]:
    """The cells of a Markdown table row; an escaped pipe stays inside its cell."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [md_unescape(cell.strip()) for cell in re.split(r"(?<!\\)\|", line[2:-2])]


def md_talk_time(md: str) -> tuple[list[list[str]], list[str]]:
    """The talk-time table's rows (header first) and the lines after it."""
    lines = md.split("\n")
    section = lines[lines.index("## Talk time") + 2:lines.index("## Transcript") - 1]
    table = [line for line in section if line.startswith("|")]
    assert section[:len(table)] == table, "the table comes first"
    assert table[1] == "| --- | ---: | ---: |"
    return [md_cells(line) for line in table[:1] + table[2:]], section[len(table):]


def test_markdown_talk_time_reads_back_as_counted(session, segments):
    md = export_transcript(session, segments, "md").decode("utf-8")
    lines = md.split("\n")
    assert lines.index("## Participants") < lines.index("## Talk time") < lines.index("## Transcript")
    rows, rest = md_talk_time(md)
    assert rows[0] == ["Speaker", "Talk time", "Share"]
    assert [tuple(row) for row in rows[1:]] == expected_talk_rows(segments)
    assert [tuple(row) for row in rows[1:]] == [("Alice", "00:00:08", "66.2%"), ("Bob", "00:00:03", "23.0%"),
                                               ("Unknown speaker", "00:00:01", "10.8%")]
    assert rest == ["", "Someone was speaking for 00:00:13."]


def test_talk_time_names_are_escaped_and_people_talking_at_once_are_told(session):
    hostile = "| Bob *the* <b>admin</b> \\ #1"
    talk = [seg(session, "one", 0, 10, hostile), seg(session, "two", 4, 6, "- Eve"), seg(session, "three", 5, 8, "1. Ann")]
    md = export_transcript(session, talk, "md").decode("utf-8")
    rows, rest = md_talk_time(md)
    assert [row[0] for row in rows[1:]] == [hostile, "1. Ann", "- Eve"]
    raw_rows = [line for line in md.split("\n") if line.startswith("| ") and "---" not in line][1:]
    for line in raw_rows:
        name_cell = re.split(r"(?<!\\)\|", line[2:-2])[0].strip()
        assert_inert_markdown(name_cell)
        assert len(re.split(r"(?<!\\)\|", line[2:-2])) == 3  # no pipe of a name opens a column
    assert rest == ["", "Someone was speaking for 00:00:10, two or more people at once for 00:00:04."]
    document = open_docx(export_transcript(session, talk, "docx"))
    table = document.tables[1]
    assert [row.cells[0].text for row in table.rows[1:]] == [hostile, "1. Ann", "- Eve"]


def test_docx_talk_time_reads_back_as_counted(session, segments):
    document = open_docx(export_transcript(session, segments, "docx"))
    texts = [p.text for p in document.paragraphs]
    assert texts.index("Participants") < texts.index("Talk time") < texts.index("Transcript")
    assert document.paragraphs[texts.index("Talk time")].style.name == "Heading 1"
    _facts, table = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == ["Speaker", "Talk time", "Share"]
    assert all(cell.paragraphs[0].runs[0].bold for cell in table.rows[0].cells)
    assert [tuple(row) for row in cells[1:]] == expected_talk_rows(segments)
    assert texts[texts.index("Transcript") - 1] == "Someone was speaking for 00:00:13."


@pytest.mark.parametrize("fmt", ["md", "docx"])
def test_talk_time_of_an_empty_transcript_says_so(session, fmt):
    for segments in ([], [seg(session, "  ", 0, 5, "Bob")]):
        data = export_transcript(session, segments, fmt)
        if fmt == "md":
            assert "## Talk time\n\n_No speech transcribed._\n\n## Transcript" in data.decode()
        else:
            document = open_docx(data)
            texts = [p.text for p in document.paragraphs]
            assert texts[texts.index("Talk time") + 1] == "No speech transcribed."
            assert len(document.tables) == 1


def test_exports_use_the_title_given_to_the_session(segments):
    titled = make_session(metadata={"title": "Budget *review* <Q4>"})
    md = export_transcript(titled, segments, "md").decode()
    assert md.split("\n")[0] == "# Budget \\*review\\* \\<Q4\\> — 2026-11-26"
    assert export_transcript(titled, segments, "txt").decode().split("\n")[0] == "Budget *review* <Q4> — 2026-11-26"
    document = open_docx(export_transcript(titled, segments, "docx"))
    assert document.paragraphs[0].text == document.core_properties.title == "Budget *review* <Q4> — 2026-11-26"


# --- empty transcripts, formats, file names ----------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_empty_transcript_is_a_valid_document(session, fmt):
    data = export_transcript(session, [], fmt)
    if fmt == "srt":
        assert data == b"" and parse_srt(data) == []
    elif fmt == "vtt":
        assert data == b"WEBVTT\n\n" and parse_vtt(data) == []
    elif fmt == "json":
        loaded = json.loads(data)
        assert loaded == {"session": session.to_dict(), "transcripts": []}
    elif fmt == "txt":
        text = data.decode()
        assert text.startswith(TITLE) and "No transcript." in text
        assert not re.search(r"^\[\d", text, re.M)
    elif fmt == "md":
        md = data.decode()
        assert md.startswith("# ") and "## Transcript\n\n_No transcript._" in md
        assert "\n**" not in md
    else:
        document = open_docx(data)
        assert document.paragraphs[0].text == TITLE
        assert document.tables[0].rows[0].cells[1].text == "Microsoft Teams"
        assert document.paragraphs[-1].text == "No transcript."


def test_blank_only_transcript_exports_like_an_empty_one(session):
    blank = [seg(session, " \n ", 1, 2, "Bob")]
    for fmt in ("srt", "vtt", "txt", "md"):
        assert export_transcript(session, blank, fmt) == export_transcript(session, [], fmt)


def test_unknown_format_is_refused_with_the_valid_ones(session):
    with pytest.raises(ValidationError) as caught:
        export_transcript(session, [], "pdf")
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details["field"] == "format"
    for key in FORMATS:
        assert key in caught.value.message
    with pytest.raises(ValidationError):
        export_filename(session, None)  # type: ignore[arg-type]


def test_format_names_are_forgiving_about_case_and_dot(session, segments):
    assert export_transcript(session, segments, " .SRT") == export_transcript(session, segments, "srt")


def test_non_finite_segment_time_is_refused(session):
    with pytest.raises(ValidationError) as caught:
        export_transcript(session, [seg(session, "x", 1.0, float("inf"))], "vtt")
    assert caught.value.details["field"] == "end_time"


def test_formats_table():
    assert set(FORMATS) == {"txt", "srt", "vtt", "json", "md", "docx"}
    assert FORMATS["vtt"].content_type == "text/vtt; charset=utf-8"
    assert FORMATS["docx"].content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert all(key == f.extension for key, f in FORMATS.items())


def test_export_filename(session):
    name = export_filename(session, "vtt")
    assert re.fullmatch(r"meeting-buddy_teams_2026-11-26_mbsess_[a-z0-9]{24}\.vtt", name)
    assert name == f"meeting-buddy_teams_2026-11-26_{session.session_id}.vtt"
    hostile = make_session(session_id="../../etc/pass wd\"", platform="google_meet",
                           join_timestamp=None, created_at="2026-01-02T03:04:05.000Z")
    name = export_filename(hostile, "docx")
    assert name == "meeting-buddy_google_meet_2026-01-02_etc-pass-wd.docx"


# --- a long meeting ------------------------------------------------------------------------------

def test_three_hour_meeting_exports_in_every_format(session):
    names = ["Alice", "Bob", None, "Zoë"]
    segments = [seg(session, f"Sentence number {i} & <more>.", i * 2.2, i * 2.2 + 2.0,
                    names[(i // 3) % 4]) for i in range(5000)]
    last = segments[-1]
    assert last.end_time > 3 * 3600
    assert parse_srt(export_transcript(session, segments, "srt"))[-1][:2] == (
        round(last.start_time * 1000), round(last.end_time * 1000))
    assert len(parse_vtt(export_transcript(session, segments, "vtt"))) == 5000
    assert len(json.loads(export_transcript(session, segments, "json"))["transcripts"]) == 5000
    txt = export_transcript(session, segments, "txt").decode()
    blocks = group_by_speaker(segments)
    assert txt.count("Unknown speaker:") == sum(b.speaker is None for b in blocks) > 400
    md = export_transcript(session, segments, "md").decode()
    assert md.count("\n**") == len(blocks)
    document = open_docx(export_transcript(session, segments, "docx"))
    assert document.paragraphs[-1].text.startswith("Sentence number 4998")


def test_bare_segments_export_for_file_transcription():
    from app.export import export_segments

    segs = [TranscriptSegment.create("file", "Hello there.", 0.5, 1.5),
            TranscriptSegment.create("file", "General Kenobi.", 2.0, 3.25)]
    txt = export_segments(segs, "txt").decode()
    assert txt == "[00:00:00] Hello there. General Kenobi.\n"
    assert export_segments(segs, "srt").decode().startswith("1\n00:00:00,500 --> 00:00:01,500\nHello there.")
    assert export_segments(segs, "vtt").decode().startswith("WEBVTT\n")
    assert [t["text"] for t in json.loads(export_segments(segs, "json"))["transcripts"]] == [
        "Hello there.", "General Kenobi."]
    with pytest.raises(ValidationError):
        export_segments(segs, "docx")
