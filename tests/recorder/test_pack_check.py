"""`meeting-buddy packs check` as a user runs it: a real process, a real QtWebEngine page, a
saved pre-join page built from the Teams pack's own confirmed landmarks."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recorder.bot.selector_pack import load_pack

# A compound selector of the simple kind the packs use: tag, #id, .class, [attr] / [attr="v"].
SIMPLE = re.compile(r"(?P<tag>[a-z]+)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[\w-]+(?:=\"[^\"]*\"|=[\w-]+)?\])*)")
PART = re.compile(r"#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:=\"([^\"]*)\"|=([\w-]+))?\]")


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=timeout)


def first_confirmed(landmark: str) -> dict:
    return next(m for m in load_pack("teams").data[landmark] if "source" in m)


def element(matcher: dict, tag: str, text: str = "") -> str:
    """An element the matcher hits: its selector's tag, id, classes and attributes, and the
    matcher's text (or `text`) as its label."""
    css = matcher.get("css", "")
    parsed = SIMPLE.fullmatch(css)
    assert parsed, f"the test builds simple selectors only, not {css!r}"
    attrs: dict[str, str] = {}
    classes = []
    for ident, cls, name, quoted, bare in PART.findall(parsed["rest"]):
        if ident:
            attrs["id"] = ident
        elif cls:
            classes.append(cls)
        else:
            attrs[name] = quoted or bare
    if classes:
        attrs["class"] = " ".join(classes)
    tag = parsed["tag"] or tag
    label = matcher.get("text", text)
    attributes = "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
    return f"<{tag}{attributes}>" if tag == "input" else f"<{tag}{attributes}>{html.escape(label)}</{tag}>"


def describe(matcher: dict) -> str:
    """How the page driver names a matcher (resources/bot/page_driver.js `describe`): without
    its evidence fields."""
    return " ".join(f"{k}={v}" for k, v in matcher.items() if k not in ("source", "unconfirmed"))


def prejoin_page(*, name_input: bool = True) -> str:
    parts = [element(first_confirmed("join_buttons"), "button", "Join now")]
    if name_input:
        parts.insert(0, element(first_confirmed("name_input"), "input"))
    body = "\n".join(parts)
    return f"<!DOCTYPE html>\n<html><head><title>Microsoft Teams</title></head><body>\n{body}\n</body></html>\n"


@pytest.fixture
def saved(tmp_path):
    def save(text: str, name: str = "page.html") -> Path:
        path = tmp_path / name
        path.write_text(text, "utf-8")
        return path
    return save


def test_a_saved_prejoin_page_shows_both_landmarks(saved):
    page = saved(prejoin_page())
    out = run_cli("packs", "check", "teams", str(page))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = {line[2:].split()[0]: line for line in out.stdout.splitlines()}
    assert lines["name_input"].startswith("* ") and describe(first_confirmed("name_input")) in lines["name_input"]
    assert describe(first_confirmed("join_buttons")) in lines["join_buttons"]
    assert lines["lobby"].split()[-1] == "none" and lines["lobby"].startswith("  ")


def test_without_the_name_input_the_check_fails_and_names_it(saved):
    page = saved(prejoin_page(name_input=False))
    out = run_cli("packs", "check", "teams", str(page))
    assert out.returncode == 1, out.stderr[-2000:]
    name_line = next(line for line in out.stdout.splitlines() if " name_input " in line)
    assert name_line.split()[-1] == "none"
    assert "meeting-buddy: the page shows no name_input (expected: name_input, join_buttons)" in out.stderr

    as_json = run_cli("packs", "check", "teams", str(page), "--json")
    assert as_json.returncode == 1
    result = json.loads(as_json.stdout)
    assert result["missing"] == ["name_input"] and result["expected"] == ["name_input", "join_buttons"]
    assert result["landmarks"]["join_buttons"] == describe(first_confirmed("join_buttons"))
    assert result["platform"] == "teams" and result["file"] == str(page.resolve())

    # other landmarks can be expected instead
    assert run_cli("packs", "check", "teams", str(page), "--expect", "join_buttons").returncode == 0


def test_the_page_is_checked_as_saved_its_scripts_do_not_run(saved):
    # A saved web client's own code would start over and change the screen.
    page = saved(prejoin_page().replace("</body>", "<script>document.body.innerHTML = '';</script></body>"))
    out = run_cli("packs", "check", "teams", str(page), "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["missing"] == []


@pytest.mark.parametrize("args, needle", [
    (("nowhere", "{page}"), "no selector pack for platform 'nowhere'"),
    (("teams", "{missing}"), "cannot read"),
    (("teams", "{folder}"), "cannot read"),
    (("teams", "{page}", "--expect", "name_input,no_such_landmark"), "no landmark no_such_landmark"),
])
def test_bad_input_is_one_line_and_exit_2(saved, tmp_path, args, needle):
    page = saved(prejoin_page())
    values = {"page": str(page), "missing": str(tmp_path / "missing.html"), "folder": str(tmp_path)}
    out = run_cli("packs", "check", *(a.format(**values) for a in args))
    assert out.returncode == 2, out.stderr[-2000:]
    assert needle in out.stderr and "Traceback" not in out.stderr
