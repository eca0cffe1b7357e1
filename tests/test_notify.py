"""The digest and reminders through the file transport: what is due, what it says, and
that a re-run, a failure, a crash or a dry run never sends anything twice."""

from __future__ import annotations

import datetime as dt
import json
from email.headerregistry import Address
from pathlib import Path

import pytest

from okrsync.errors import NotifyError
from okrsync.ledger import Ledger, LedgerStatus
from okrsync.mail import FileTransport, build_message, new_message_id, safe_address
from okrsync.notes import load_questions, pick_question
from okrsync.notify import Kind, Status, digest_window, send_due
from tests.notify_helpers import (
    TODAY,
    error_row,
    kr_ids,
    make_config,
    make_table,
    overdue,
    parse_html,
    parts,
    read_eml,
    realistic_table,
    section,
    text_of,
)

LOCATION = "/srv/okrs/okrs.xlsx"
SHEET_URL = "https://docs.google.com/spreadsheets/d/1AbC/edit"


def run(config, table, issues=(), today=TODAY, **kw):
    return send_due(config, table, list(issues), today=today, location=LOCATION, **kw)


def by_kind(report, kind):
    return [m for m in report.messages if m.kind == kind]


def digest_parts(report, scope="All teams"):
    (m,) = [m for m in report.messages if m.kind == Kind.DIGEST and m.scope == scope]
    msg = read_eml(Path(m.path))
    return msg, *parts(msg)


# --- the digest's content -------------------------------------------------------------


@pytest.fixture
def realistic_digest(tmp_path):
    table, issues = realistic_table()
    report = run(make_config(tmp_path), table, issues)
    msg, text, html = digest_parts(report)
    return msg, text, parse_html(html)


def test_digest_headers_and_both_parts(realistic_digest):
    """The digest is multipart/alternative with a subject naming the scope and ISO week."""
    msg, text, tree = realistic_digest
    assert msg["Subject"] == "OKR check-in notes — All teams — week 47, 2026"
    assert msg["To"].addresses[0].addr_spec == "lead@example.com"
    assert msg["From"].addresses[0].addr_spec == "okrsync@example.com"
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg["Date"].datetime.tzinfo is not None
    assert "Wins to celebrate" in text
    assert tree.find(".//title").text == msg["Subject"]


def test_digest_sections_in_meeting_order(realistic_digest):
    """Sections follow the contract's order: question, headline, ..., rows with problems."""
    _, text, tree = realistic_digest
    keys = [t.get("data-section") for t in tree.iter("table") if t.get("data-section")]
    assert keys == [
        "header", "question", "headline", "objectives", "wins", "risks", "rosier",
        "overdue", "revisit", "stalled", "actions", "problems",
    ]  # fmt: skip
    headings = ["To open with", "Headline", "Objectives", "Wins to celebrate", "Risks",
                "Owner says rosier than the sheet", "Overdue check-ins", "Key results to revisit",
                "Stalled (reminders stopped)", "Action items", "Rows with problems"]  # fmt: skip
    positions = [text.index(f"\n{h}\n{'-' * len(h)}\n") for h in headings]
    assert positions == sorted(positions)


def test_digest_question_is_this_weeks(realistic_digest):
    """The opening question is the shipped list's pick for the ISO week."""
    _, text, tree = realistic_digest
    question = pick_question(TODAY)
    assert text_of(section(tree, "question")).endswith(question)
    assert question in text


def test_digest_headline_counts(realistic_digest):
    """Counts by health, overdue and errors; no change shown before a first digest."""
    _, _, tree = realistic_digest
    tiles = {
        t.get("data-count"): text_of(t.find(".//span[@class='count']"))
        for t in section(tree, "headline").iter("table")
        if t.get("data-count")
    }
    assert tiles == {
        "krs": "13", "on track": "5", "at risk": "2", "off track": "4", "done": "1",
        "overdue": "5", "errors": "1",
    }  # fmt: skip
    assert section(tree, "headline").find(".//span[@class='delta muted']") is None


def test_digest_objectives_mean_progress_and_weakest_health(realistic_digest):
    """Each objective shows the mean of its KRs' progress and its weakest KR's health."""
    _, _, tree = realistic_digest
    rows = [
        text_of(td)
        for td in section(tree, "objectives").iter("td")
        if td.get("class") == "objective"
    ]
    assert rows == [
        "off track Grow self-serve revenue · 53% · 4 KRs",
        "off track Delight new customers · 52% · 3 KRs",
        "off track Make the product fast and reliable · 39% · 6 KRs",
    ]


def test_digest_wins_are_new_check_ins_done_on_track_or_up(realistic_digest):
    """Wins: checked in since the last digest and done, on track or moving up."""
    _, _, tree = realistic_digest
    wins = section(tree, "wins")
    assert kr_ids(wins) == ["KR-0001", "KR-0003", "KR-0005", "KR-0008", "KR-0009", "KR-0012"]
    cell = next(e for e in wins.iter("td") if e.get("data-kr") == "KR-0009")
    assert "moving up since the previous check-in" in text_of(cell)
    headings = [text_of(e) for e in wins.iter("td") if e.get("class") == "objective-heading"]
    assert headings[0] == "Grow self-serve revenue · objective 53% done, off track"


def test_digest_wins_leave_out_on_track_krs_moving_down(tmp_path):
    """An on-track KR that slipped since its previous check-in is no win; done, moving up,
    or on track and flat (or with no earlier check-in) are."""
    table = make_table([
        {"Trend": "↓"},
        {"Trend": "→"},
        {"Trend": None},
        {"Trend": "↑", "Health": "at risk", "Progress": 0.3},
        {"Trend": "↓", "Health": "at risk", "Progress": 0.3},
    ])  # fmt: skip
    _, _, html = digest_parts(run(make_config(tmp_path), table))
    assert kr_ids(section(parse_html(html), "wins")) == ["KR-0002", "KR-0003", "KR-0004"]


def test_kept_krs_read_target_met_not_a_pace(tmp_path):
    """At least / at most KRs have no pace: "target met" or "target not met", not
    "100% done, 51% expected"."""
    table = make_table([
        {"Type": "at least", "Progress": 1.0},
        {"Type": "at most", "Progress": 0.0, "Health": "off track", "Owner Health": "on track"},
    ])  # fmt: skip
    _, text, html = digest_parts(run(make_config(tmp_path), table))
    tree = parse_html(html)
    assert "KR-0001 · Ann Owner · target met" in text_of(section(tree, "wins"))
    assert "the numbers say off track (target not met)" in text_of(section(tree, "rosier"))
    assert "KR-0002 · Ann Owner · target not met" in text
    assert "expected" not in text_of(section(tree, "rosier"))


def test_digest_risks_with_blockers_and_next_steps(realistic_digest):
    """Risks: at-risk and off-track KRs: owner, progress vs expected, blockers, next steps."""
    _, _, tree = realistic_digest
    risks = section(tree, "risks")
    assert kr_ids(risks) == ["KR-0002", "KR-0004", "KR-0006", "KR-0009", "KR-0010", "KR-0011"]
    cell = next(e for e in risks.iter("td") if e.get("data-kr") == "KR-0004")
    assert text_of(cell) == (
        "at risk Reach 400 weekly sign-ups KR-0004 · Marco Rossi 38% done, 52% expected "
        "Blockers: Paid ads budget frozen until December "
        "Next steps: Test two organic channels; ask finance about the freeze"
    )


def test_digest_rosier_owner_health(realistic_digest):
    """Owner health better than computed health is listed with both words."""
    _, _, tree = realistic_digest
    rosier = section(tree, "rosier")
    assert kr_ids(rosier) == ["KR-0002", "KR-0006", "KR-0010"]
    assert "Owner says on track; the numbers say off track" in text_of(rosier)


def test_digest_overdue_revisit_actions_problems(realistic_digest):
    """Overdue with days since check-in; revisit from Sync Notes; actions by owner; problems."""
    _, _, tree = realistic_digest
    overdue_s = section(tree, "overdue")
    assert kr_ids(overdue_s) == ["KR-0002", "KR-0006", "KR-0007", "KR-0010", "KR-0011"]
    assert "Last check-in 11 days ago (2026-11-05); was due 2026-11-12" in text_of(overdue_s)
    assert kr_ids(section(tree, "revisit")) == ["KR-0006"]
    assert "Off track for 3 check-ins in a row" in text_of(section(tree, "revisit"))
    assert section(tree, "stalled").find(".//p[@data-empty]") is not None
    owners = [
        (td.get("data-owner"), kr_ids(td))
        for td in section(tree, "actions").iter("td")
        if td.get("data-owner")
    ]
    assert owners == [
        ("Ade Okafor", ["KR-0010"]),
        ("Jo Müller", ["KR-0009"]),
        ("Marco Rossi", ["KR-0004"]),
        ("Priya Patel", ["KR-0001", "KR-0002"]),
        ("Sam Lee", ["KR-0005"]),
    ]
    problems = [text_of(td) for td in section(tree, "problems").iter("td") if td.get("data-row")]
    assert problems == [
        'warning Row 13 (KR-0012): Owner Health: "greenish" is not on track, at risk or off track',
        'error Row 14 (KR-0013): Current: "about half" is not a number',
    ]


def test_digest_revisit_follows_the_revisit_column(tmp_path):
    """A sync table's ``revisit`` column (set from History) decides who is listed to
    revisit; Sync Notes only word the reason. (realistic_table has no such column: there
    the warning's words in Sync Notes decide, as in the test above.)"""
    warning = "Health: off track for 5 check-ins in a row; consider revisiting this KR"
    off = {"Health": "off track", "Progress": 0.1}
    table = make_table([
        off | {"Sync Notes": warning, "revisit": True},
        off | {"revisit": True},  # flagged, though its notes do not say so
        off | {"revisit": None},  # a blank is not a flag
    ])  # fmt: skip
    _, text, html = digest_parts(run(make_config(tmp_path), table))
    revisit = section(parse_html(html), "revisit")
    assert kr_ids(revisit) == ["KR-0001", "KR-0002"]
    notes = {e.get("data-kr"): text_of(e) for e in revisit.iter("td") if e.get("data-kr")}
    assert "Off track for 5 check-ins in a row" in notes["KR-0001"]
    assert "Off track at its last check-ins" in notes["KR-0002"]
    assert "Key results to revisit\n----------------------\nNone." not in text
    assert section(parse_html(html), "problems").find(".//p[@data-empty]") is not None


def test_digest_text_part_has_the_same_notes(realistic_digest):
    """The plain-text part carries the same content for clients without HTML."""
    _, text, _ = realistic_digest
    assert "Key results:       13" in text
    assert "[AT RISK] Reach 400 weekly sign-ups" in text
    assert "Blockers: Paid ads budget frozen until December" in text
    assert '- Row 14 (KR-0013), error: Current: "about half" is not a number' in text
    assert "Priya Patel\n  - Ship the annual-plan upsell email (KR-0001)" in text


def test_health_labels_carry_words_not_only_colour(realistic_digest):
    """Every coloured label says its health in words."""
    _, _, tree = realistic_digest
    labels = [e for e in tree.iter("span") if e.get("class") == "label"]
    assert labels
    words = {text_of(e) for e in labels}
    assert words <= {"on track", "at risk", "off track", "done", "not computed", "error", "warning",
                     "On track", "At risk", "Off track", "Done"}  # fmt: skip
    assert all("background-color" in e.get("style") for e in labels)


def test_html_is_email_safe(realistic_digest):
    """No scripts, no external assets, a max-width container, a dark-mode block."""
    _, _, tree = realistic_digest
    assert tree.findall(".//script") == []
    assert tree.findall(".//img") == []
    assert tree.findall(".//link") == []
    assert any("max-width:640px" in (t.get("style") or "") for t in tree.iter("table"))
    style = tree.find(".//style").text
    assert "prefers-color-scheme: dark" in style
    assert tree.find(".//meta[@name='color-scheme']").get("content") == "light dark"


def test_sheet_text_is_escaped_in_html(tmp_path):
    """A Comment with <script> shows as text, never as markup."""
    table = make_table([
        {"Comment": "<script>alert(1)</script>", "Health": "at risk",
         "Blockers": "<b>bold</b> & co", "Key Result": "Tom & <Jerry>"},
    ])  # fmt: skip
    report = run(make_config(tmp_path), table)
    _, _, html = digest_parts(report)
    tree = parse_html(html)
    assert tree.findall(".//script") == []
    assert tree.findall(".//b") == []
    risks = text_of(section(tree, "risks"))
    assert "“<script>alert(1)</script>”" in risks
    assert "Blockers: <b>bold</b> & co" in risks
    assert "Tom & <Jerry>" in risks


def test_team_digest_has_that_teams_rows_only(tmp_path):
    """team_managers get a digest of their team's rows, subject naming the team."""
    table = make_table([
        {"Team": "Growth", "Health": "at risk"},
        {"Team": "Platform", "Health": "off track"},
    ])  # fmt: skip
    config = make_config(tmp_path, team_managers={"Platform": ["plat@example.com"]})
    report = run(config, table)
    msg, _, html = digest_parts(report, scope="Platform")
    assert msg["Subject"] == "OKR check-in notes — Platform — week 47, 2026"
    assert msg["To"].addresses[0].addr_spec == "plat@example.com"
    assert kr_ids(section(parse_html(html), "risks")) == ["KR-0002"]
    _, _, org = digest_parts(report)
    assert kr_ids(section(parse_html(org), "risks")) == ["KR-0001", "KR-0002"]


def test_changes_since_last_digest(tmp_path):
    """The next digest shows each headline count's change since the previous one."""
    config = make_config(tmp_path)
    run(config, make_table([{"Health": "at risk"}, {}]))
    nxt = TODAY + dt.timedelta(days=7)
    report = run(config, make_table([{"Health": "off track"}, {}, {}], today=nxt), today=nxt)
    _, text, html = digest_parts(report)
    tiles = {
        t.get("data-count"): text_of(t)
        for t in section(parse_html(html), "headline").iter("table")
        if t.get("data-count")
    }
    assert tiles["krs"].startswith("3 (+1)")
    assert tiles["at risk"].startswith("0 (-1)")
    assert tiles["off track"].startswith("1 (+1)")
    assert tiles["on track"].startswith("2 (+1)")
    assert tiles["done"].startswith("0 (±0)")
    assert "Key results:       3 (+1 since the last digest)" in text
    assert "Checked in since 2026-11-16" in html


# --- when messages are due ------------------------------------------------------------


def test_digest_only_on_digest_day_or_daily(tmp_path):
    """Weekly: Monday only. Daily: every day, once per day."""
    table = make_table([{}])
    tuesday = TODAY + dt.timedelta(days=1)
    weekly = run(make_config(tmp_path / "w"), make_table([{}], today=tuesday), today=tuesday)
    assert by_kind(weekly, Kind.DIGEST) == []
    assert weekly.digest_window == TODAY
    assert digest_window(dt.date(2026, 11, 22), "monday") == TODAY

    daily = make_config(tmp_path / "d", digest_day="daily")
    assert [m.status for m in by_kind(run(daily, table), Kind.DIGEST)] == [Status.SENT]
    assert [m.status for m in by_kind(run(daily, table), Kind.DIGEST)] == [Status.SKIPPED]
    next_day = run(daily, make_table([{}], today=tuesday), today=tuesday)
    assert [m.status for m in by_kind(next_day, Kind.DIGEST)] == [Status.SENT]
    assert len(list((tmp_path / "d" / "outbox").glob("digest_*.eml"))) == 2


def test_rerun_sends_nothing_twice(tmp_path):
    """A second sync the same day skips every message and writes no new file."""
    config = make_config(tmp_path)
    table = make_table([overdue(), overdue(Owner="Bo", **{"Owner Email": "bo@example.com"})])
    first = run(config, table)
    assert [m.status for m in first.messages] == [Status.SENT] * 3
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    second = run(config, table)
    assert [m.status for m in second.messages] == [Status.SKIPPED] * 3
    assert [m.message_id for m in second.messages] == [m.message_id for m in first.messages]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == files


def test_one_reminder_per_owner_listing_all_overdue_krs(tmp_path):
    """An owner with two overdue KRs gets one message listing both, with the three questions."""
    table = make_table([
        overdue(days=10), {}, overdue(days=20, **{"Key Result": "Hire 2 engineers"}),
        overdue(Owner="Bo", **{"Owner Email": "bo@example.com"}),
    ])  # fmt: skip
    report = run(make_config(tmp_path, managers=[]), table)
    reminders = by_kind(report, Kind.REMINDER)
    assert [(m.recipients, m.krs) for m in reminders] == [
        (("ann@example.com",), ("KR-0001", "KR-0003")),
        (("bo@example.com",), ("KR-0004",)),
    ]
    msg = read_eml(Path(reminders[0].path))
    assert msg["To"].addresses[0] == Address("Ann Owner", addr_spec="ann@example.com")
    assert msg["Subject"] == "Time for your OKR check-in: 2 key results waiting"
    text, html = parts(msg)
    tree = parse_html(html)
    assert kr_ids(tree) == ["KR-0001", "KR-0003"]
    assert [text_of(li) for li in tree.iter("li")] == [
        "What progress have you made since the last check-in?",
        "What challenges are in the way? (Blockers)",
        "What will you do next? (Next Steps)",
    ]
    assert text_of(tree.find(".//span[@class='location']")) == LOCATION
    assert "last check-in 20 days ago (2026-10-27); was due 2026-11-03" in text
    assert f"Update the workbook: {LOCATION}" in text


def test_reminder_links_the_google_sheet(tmp_path):
    """With a sheet URL as location, the reminder links it."""
    report = send_due(make_config(tmp_path, managers=[]), make_table([overdue()]), [],
                      today=TODAY, location=SHEET_URL)  # fmt: skip
    _, html = parts(read_eml(Path(report.messages[0].path)))
    link = parse_html(html).find(".//a[@class='location']")
    assert link.get("href") == SHEET_URL


def test_reminder_spacing_and_stalling(tmp_path):
    """Once per missed check-in, again after 7 days, stalled after 3 with no new check-in."""
    config = make_config(tmp_path, managers=[])
    checkin = TODAY - dt.timedelta(days=10)

    def at(day: int, checked: dt.date = checkin, **kw):
        today = TODAY + dt.timedelta(days=day)
        days = (today - checked).days
        row = overdue(days=days, today=today, **kw)
        return run(config, make_table([row], today=today), today=today)

    assert [m.status for m in at(0).messages] == [Status.SENT]
    assert [m.status for m in at(0).messages] == [Status.SKIPPED]
    assert at(3).messages == []  # reminded 3 days ago about this check-in
    second = at(7)
    assert [m.status for m in second.messages] == [Status.SENT]
    third = at(14)
    assert [m.status for m in third.messages] == [Status.SENT]
    _, html = parts(read_eml(Path(third.messages[0].path)))
    assert parse_html(html).find(".//p[@class='last-call']") is not None
    fourth = at(21)
    assert fourth.messages == []
    assert fourth.stalled == ["KR-0001"]
    # A new check-in restarts the count: overdue again later means a reminder again.
    fresh = TODAY + dt.timedelta(days=22)
    again = at(40, checked=fresh)
    assert [m.status for m in again.messages] == [Status.SENT]
    assert again.stalled == []


def test_next_checkin_moving_on_reminds_again_within_7_days(tmp_path):
    """A new missed check-in (Next Check-in moved on) is reminded without waiting 7 days."""
    config = make_config(tmp_path, managers=[])
    assert run(config, make_table([overdue(days=10, cadence=7)])).messages[0].status == Status.SENT
    later = TODAY + dt.timedelta(days=2)
    moved = make_table([overdue(days=12, cadence=9, today=later)], today=later)
    assert [m.status for m in run(config, moved, today=later).messages] == [Status.SENT]


def test_stalled_krs_listed_in_digest(tmp_path):
    """A stalled KR moves from "overdue" to "stalled" in the digest."""
    config = make_config(tmp_path, managers=[])
    for week in range(3):
        day = TODAY + dt.timedelta(days=7 * week)
        run(config, make_table([overdue(days=10 + 7 * week, today=day)], today=day), today=day)
    config = make_config(tmp_path)
    day = TODAY + dt.timedelta(days=21)
    report = run(config, make_table([overdue(days=31, today=day)], today=day), today=day)
    assert by_kind(report, Kind.REMINDER) == []
    _, text, html = digest_parts(report)
    tree = parse_html(html)
    assert kr_ids(section(tree, "stalled")) == ["KR-0001"]
    assert kr_ids(section(tree, "overdue")) == []
    assert "3 reminders, no check-in since 2026-11-06; reminders stopped" in text


def test_overdue_without_email_is_reported_unreachable(tmp_path):
    """An overdue KR with no Owner Email cannot be reminded; the report says so."""
    report = run(make_config(tmp_path, managers=[]), make_table([overdue(**{"Owner Email": None})]))
    assert report.messages == []
    assert report.unreachable == ["KR-0001"]


def test_error_rows_are_not_reminded(tmp_path):
    """Rows with errors have no computed Overdue and get no reminder."""
    table = make_table([error_row('Target: "x" is not a number')])
    assert run(make_config(tmp_path, managers=[]), table).messages == []


# --- safety ---------------------------------------------------------------------------


def test_recipient_outside_allowed_domains_is_refused(tmp_path):
    """An owner outside allowed_domains is refused and reported; nothing is written."""
    table = make_table([overdue(**{"Owner Email": "ann@gmail.com"}), overdue(Owner="Bo")])
    report = run(make_config(tmp_path, managers=[]), table)
    refused = report.refused
    assert [(m.recipients, m.status) for m in refused] == [(("ann@gmail.com",), Status.REFUSED)]
    assert "gmail.com is not in [email] allowed_domains" in refused[0].reason
    assert [p.name.split("-")[0] for p in (tmp_path / "outbox").iterdir()] == [
        "reminder_ann@example.com_2026"
    ]
    with Ledger.open(tmp_path / "state") as ledger:
        assert ledger.get(refused[0].key) is None


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com\r\nBcc: eve@example.com",
        "ann@example.com, eve@example.com",
        "Ann <ann@example.com>",
        '"ann,eve"@example.com',
    ],
    ids=["crlf", "comma-list", "name-addr", "quoted"],
)
def test_email_cell_cannot_add_recipients(tmp_path, email):
    """An Owner Email that is not one plain address is refused at the boundary."""
    report = run(
        make_config(tmp_path, managers=[]), make_table([overdue(**{"Owner Email": email})])
    )
    assert [m.status for m in report.messages] == [Status.REFUSED]
    assert "is not a single email address" in report.messages[0].reason
    assert not (tmp_path / "outbox").exists()


def test_name_and_team_cannot_add_headers(tmp_path):
    """CR/LF in an Owner name or a team name stays inside one header value."""
    team = "Growth\r\nBcc: eve@example.com"
    table = make_table([overdue(Owner="Ann\r\nBcc: eve@example.com", Team=team)])
    config = make_config(tmp_path, managers=[], team_managers={team: ["lead@example.com"]})
    report = run(config, table)
    assert [m.status for m in report.messages] == [Status.SENT, Status.SENT]
    for m in report.messages:
        msg = read_eml(Path(m.path))
        assert msg["Bcc"] is None
        assert [a.addr_spec for a in msg["To"].addresses] == [m.recipients[0]]
        headers = Path(m.path).read_bytes().split(b"\n\n", 1)[0]
        assert b"\nBcc:" not in headers
    digest = read_eml(Path(report.messages[0].path))
    assert digest["Subject"] == "OKR check-in notes — Growth Bcc: eve@example.com — week 47, 2026"


def test_safe_address_rejects_header_breaks():
    """safe_address flattens names and refuses anything but one address."""
    assert safe_address("a@example.com", "A\nB").display_name == "A B"
    for bad in ["a@example.com\n", "a@example.com,b@example.com", "", None, "a b@example.com"]:
        with pytest.raises(ValueError, match="single email address"):
            safe_address(bad)


# --- failures, crashes, dry runs ------------------------------------------------------


def test_failed_digest_is_retried_next_run_even_after_digest_day(tmp_path):
    """A digest that failed on Monday is retried on Tuesday's run under Monday's key."""
    config = make_config(tmp_path)
    (tmp_path / "outbox").write_text("not a folder")  # the outbox cannot be created
    first = run(config, make_table([{}]))
    (m,) = first.failed
    assert m.kind == Kind.DIGEST
    assert "cannot write" in m.reason
    assert "[email] outbox" in m.reason
    (tmp_path / "outbox").unlink()
    tuesday = TODAY + dt.timedelta(days=1)
    second = run(config, make_table([{}], today=tuesday), today=tuesday)
    (again,) = second.messages
    assert (again.status, again.key, again.attempts) == (Status.SENT, m.key, 2)
    assert again.message_id == m.message_id
    assert read_eml(Path(again.path))["Message-ID"] == m.message_id
    wednesday = TODAY + dt.timedelta(days=2)
    assert run(config, make_table([{}], today=wednesday), today=wednesday).messages == []


def test_crash_after_writing_does_not_duplicate(tmp_path):
    """A run that wrote the .eml but died before recording 'sent' is settled, not resent."""
    config = make_config(tmp_path)
    key = "digest:all:lead@example.com:2026-11-16"
    message_id = new_message_id("okrsync@example.com")
    outbox = FileTransport(tmp_path / "outbox")
    with Ledger.open(tmp_path / "state") as ledger:
        ledger.begin(key, kind="digest", recipient="lead@example.com", subject="s",
                     message_id=message_id)  # fmt: skip
        msg = build_message(sender=safe_address("okrsync@example.com"),
                            to=safe_address("lead@example.com"), subject="s", text="t",
                            html="<p>h</p>", message_id=message_id)  # fmt: skip
        outbox.send(msg, key)  # ...and the process dies here
    report = run(config, make_table([{}]))
    assert [m.status for m in report.messages] == [Status.SKIPPED]
    assert report.recovered == [f"recovered {key}: an earlier run stopped after writing it; "
                                "found in the outbox"]  # fmt: skip
    assert read_eml(outbox.path_for(key))["Message-ID"] == message_id
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_crash_before_writing_is_retried(tmp_path):
    """A run that recorded 'sending' but never wrote the file sends it on the next run."""
    config = make_config(tmp_path)
    key = "digest:all:lead@example.com:2026-11-16"
    with Ledger.open(tmp_path / "state") as ledger:
        ledger.begin(key, kind="digest", recipient="lead@example.com", subject="s",
                     message_id="<x@example.com>")  # fmt: skip
    report = run(config, make_table([{}]))
    (m,) = report.messages
    assert (m.status, m.message_id, m.attempts) == (Status.SENT, "<x@example.com>", 2)
    assert "stopped before writing it; retrying" in report.recovered[0]


def test_dry_run_renders_and_records_nothing(tmp_path):
    """--dry-run reports would-send for each message and creates no file or state."""
    config = make_config(tmp_path)
    table = make_table([overdue()])
    report = run(config, table, dry_run=True)
    assert [(m.kind, m.status, m.recipients) for m in report.messages] == [
        (Kind.DIGEST, Status.WOULD_SEND, ("lead@example.com",)),
        (Kind.REMINDER, Status.WOULD_SEND, ("ann@example.com",)),
    ]
    assert report.messages[0].subject == "OKR check-in notes — All teams — week 47, 2026"
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "outbox").exists()
    assert [m.status for m in run(config, table).messages] == [Status.SENT, Status.SENT]
    assert [m.status for m in run(config, table, dry_run=True).messages] == [Status.SKIPPED] * 2


def test_report_is_json_serialisable(tmp_path):
    """to_dict() is plain JSON with counts per status; lines() is a readable summary."""
    report = run(make_config(tmp_path), make_table([overdue(**{"Owner Email": None})]))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"]["sent"] == 1
    assert data["unreachable"] == ["KR-0001"]
    assert data["messages"][0]["kind"] == "digest"
    assert data["digest_window"] == "2026-11-16"
    assert report.lines()[0] == "sent digest (All teams) to lead@example.com"


def test_disabled_email_sends_nothing(tmp_path):
    """[email] enabled = false: nothing is sent or recorded."""
    report = run(make_config(tmp_path, enabled=False), make_table([overdue()]))
    assert report.messages == []
    assert not report.enabled
    assert not (tmp_path / "state").exists()


def test_ledger_status_after_send(tmp_path):
    """The ledger records each message as sent with its Message-ID and one attempt."""
    report = run(make_config(tmp_path), make_table([overdue()]))
    with Ledger.open(tmp_path / "state") as ledger:
        for m in report.messages:
            rec = ledger.get(m.key)
            assert (rec.status, rec.message_id, rec.attempts) == (
                LedgerStatus.SENT,
                m.message_id,
                1,
            )


# --- templates ------------------------------------------------------------------------


def test_templates_dir_overrides_some_templates(tmp_path):
    """[email] templates: files there win; the rest come from okrsync; HTML still escapes."""
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "digest.txt.j2").write_text("Custom notes for {{ notes.scope }}\n")
    (custom / "digest.html.j2").write_text("<p>{{ notes.scope }} {{ notes.question }}</p>\n")
    config = make_config(tmp_path, templates="tpl", team_managers={"<b>Ops</b>": ["o@example.com"]})
    report = run(config, make_table([overdue(Team="<b>Ops</b>")]))
    _, text, html = digest_parts(report, scope="<b>Ops</b>")
    assert text == "Custom notes for <b>Ops</b>\n"
    assert html.startswith("<p>&lt;b&gt;Ops&lt;/b&gt; ")
    (reminder,) = by_kind(report, Kind.REMINDER)
    _, reminder_html = parts(read_eml(Path(reminder.path)))  # not overridden: okrsync's own
    assert "Three questions to prepare" in text_of(parse_html(reminder_html))


def test_broken_override_template_is_a_notify_error(tmp_path):
    """A template error names the template and says to fix it."""
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "digest.txt.j2").write_text("{{ notes.no_such_thing }}\n")
    with pytest.raises(NotifyError, match=r"digest.txt.j2 cannot be rendered .*fix the template"):
        run(make_config(tmp_path, templates="tpl"), make_table([{}]))


def test_questions_rotate_by_iso_week():
    """About 30 questions ship; consecutive weeks get different ones."""
    questions = load_questions()
    assert 25 <= len(questions) <= 40
    assert all(q.endswith("?") for q in questions)
    weeks = [pick_question(TODAY + dt.timedelta(weeks=w)) for w in range(len(questions))]
    assert len(set(weeks)) == len(questions)
    assert pick_question(TODAY) == pick_question(TODAY + dt.timedelta(days=6))


def test_long_sections_are_capped_and_counted(tmp_path):
    """A big sheet gives a readable digest: 40 KRs a section, the rest counted."""
    table = make_table([{"Health": "at risk"} for _ in range(45)])
    report = run(make_config(tmp_path), table)
    _, text, html = digest_parts(report)
    risks = section(parse_html(html), "risks")
    assert len(kr_ids(risks)) == 40
    assert text_of(risks).endswith("…and 5 more in the sheet.")
    assert "...and 5 more in the sheet." in text


def test_table_without_error_column(tmp_path):
    """A table without the bookkeeping 'error' column is read as error-free."""
    table = make_table([overdue()]).drop(columns=["error"])
    report = run(make_config(tmp_path), table)
    assert [m.status for m in report.messages] == [Status.SENT, Status.SENT]
