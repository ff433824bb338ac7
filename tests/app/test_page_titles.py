"""The meeting's title as its page shows it (SessionControl.page_title, fed by the bot once it
is admitted): it becomes the session's title, cleaned like any page text, unless the user
already named the session — a user's title always wins."""
from __future__ import annotations

from app.sessions import SessionControl, SessionManager, StartRequest
from app.titles import MAX_TITLE, session_title

LINK = "https://meet.google.com/abc-defg-hij"


def new_session(store, **metadata):
    manager = SessionManager(store)
    session, link = manager.create(StartRequest(LINK, metadata=metadata or None))
    return manager, session.session_id, SessionControl(manager, session.session_id, link)


def test_the_page_title_names_a_session_the_user_has_not_named(store):
    manager, sid, control = new_session(store)
    events: list = []
    manager.bus.subscribe(events.append)
    control.page_title("Weekly\u202e  planning\u200b\n call\x1b")
    stored = store.get_session(sid)
    assert stored.metadata["title"] == "Weekly planning call"   # bidi, zero-width, controls gone
    assert session_title(stored) == "Weekly planning call"       # what the list, page and exports show
    assert any(e.kind == "session" for e in events)              # the window and API clients hear of it
    manager.rename(sid, "Planning (team A)")                     # the user can still rename it
    assert session_title(store.get_session(sid)) == "Planning (team A)"


def test_a_user_rename_wins_over_the_page_title(store):
    manager, sid, control = new_session(store)
    manager.rename(sid, "Budget 2027")
    control.page_title("Quarterly roadmap review")
    assert store.get_session(sid).metadata["title"] == "Budget 2027"
    assert any("keeps its title \u201cBudget 2027\u201d" in entry.message and "Quarterly roadmap review"
               in entry.message for entry in store.logs(sid))


def test_a_title_given_at_the_start_wins_over_the_page_title(store):
    _, sid, control = new_session(store, title="Hiring sync")
    control.page_title("Quarterly roadmap review")
    assert store.get_session(sid).metadata["title"] == "Hiring sync"


def test_a_page_title_with_nothing_printable_leaves_the_link_name(store):
    _, sid, control = new_session(store)
    for blank in ("", "   ", "\u202e\u200b\x00"):
        control.page_title(blank)
    stored = store.get_session(sid)
    assert "title" not in stored.metadata and session_title(stored) == "Google Meet · abc-defg-hij"


def test_a_long_page_title_is_cut(store):
    _, sid, control = new_session(store)
    control.page_title("z" * 10_000)
    title = store.get_session(sid).metadata["title"]
    assert len(title) == MAX_TITLE and title.endswith("\u2026")
