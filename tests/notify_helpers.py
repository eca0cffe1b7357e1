"""Build sync tables and configs for the email tests without running the pipeline.

``make_table`` produces the shape of ``okrsync.pipeline.SyncResult.table`` (see
HELPER_CONTEXT.md): one row per sheet row, columns named by ``Col`` values, plus ``row``
and ``error``. Each row dict overrides the defaults of a healthy, on-track KR.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import html5lib
import pandas as pd

from okrsync.columns import Col
from okrsync.config import Config, parse_config
from okrsync.errors import RowIssue

TODAY = dt.date(2026, 11, 16)  # a Monday, ISO week 47
CYCLE_START = dt.date(2026, 10, 1)
CYCLE_END = dt.date(2026, 12, 31)

_DATE_COLUMNS = (Col.CHECKIN_DATE.value, Col.DUE_DATE.value, Col.NEXT_CHECKIN.value)
_FLOAT_COLUMNS = (
    Col.START.value,
    Col.TARGET.value,
    Col.CURRENT.value,
    Col.PROGRESS.value,
    Col.EXPECTED.value,
    Col.DAYS_SINCE.value,
)


def make_row(n: int, today: dt.date = TODAY, **values: Any) -> dict[str, Any]:
    """The defaults of row ``n`` (1-based): an on-track KR checked in 3 days ago."""
    checkin = today - dt.timedelta(days=3)
    row: dict[str, Any] = {
        Col.ID.value: f"KR-{n:04d}",
        Col.OBJECTIVE.value: "Grow revenue",
        Col.KEY_RESULT.value: f"Key result {n}",
        Col.OWNER.value: "Ann Owner",
        Col.OWNER_EMAIL.value: "ann@example.com",
        Col.TEAM.value: "Growth",
        Col.TYPE.value: "increase",
        Col.START.value: 0.0,
        Col.TARGET.value: 100.0,
        Col.CURRENT.value: 50.0,
        Col.OWNER_HEALTH.value: None,
        Col.CHECKIN_DATE.value: checkin,
        Col.COMMENT.value: "",
        Col.BLOCKERS.value: "",
        Col.NEXT_STEPS.value: "",
        Col.CADENCE.value: "weekly",
        Col.DUE_DATE.value: CYCLE_END,
        Col.PROGRESS.value: 0.5,
        Col.EXPECTED.value: 0.5,
        Col.HEALTH.value: "on track",
        Col.OVERDUE.value: "no",
        Col.DAYS_SINCE.value: 3.0,
        Col.NEXT_CHECKIN.value: checkin + dt.timedelta(days=7),
        Col.TREND.value: None,
        Col.SYNC_NOTES.value: "",
        "row": n + 1,
        "error": False,
    }
    for key, value in values.items():
        row[key] = value
    return row


def make_table(rows: list[dict[str, Any]], today: dt.date = TODAY) -> pd.DataFrame:
    """A sync table from row dicts keyed by column name; missing cells take defaults.

    Use ``overdue(...)`` for a KR whose check-in is late.
    """
    frame = pd.DataFrame([make_row(i + 1, today) | r for i, r in enumerate(rows)])
    for col in _DATE_COLUMNS:
        frame[col] = pd.to_datetime(frame[col])
    for col in _FLOAT_COLUMNS:
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    frame["row"] = frame["row"].astype(int)
    frame["error"] = frame["error"].astype(bool)
    return frame


def overdue(days: int = 10, cadence: int = 7, today: dt.date = TODAY, **values: Any) -> dict:
    """Row values of a KR last checked in ``days`` ago, so its Next Check-in has passed."""
    checkin = today - dt.timedelta(days=days)
    return {
        Col.CHECKIN_DATE.value: checkin,
        Col.DAYS_SINCE.value: float(days),
        Col.NEXT_CHECKIN.value: checkin + dt.timedelta(days=cadence),
        Col.OVERDUE.value: "yes",
        **values,
    }


def error_row(note: str, **values: Any) -> dict:
    """Row values of a row with an error: computed cells blank, Sync Notes filled."""
    return {
        Col.PROGRESS.value: None,
        Col.EXPECTED.value: None,
        Col.HEALTH.value: None,
        Col.OVERDUE.value: None,
        Col.DAYS_SINCE.value: None,
        Col.NEXT_CHECKIN.value: None,
        Col.SYNC_NOTES.value: note,
        "error": True,
        **values,
    }


def make_config(tmp_path: Path, **email_overrides: Any) -> Config:
    """A config with file transport under ``tmp_path`` unless ``email_overrides`` say otherwise."""
    email_table: dict[str, Any] = {
        "transport": "file",
        "outbox": "outbox",
        "from": "okrsync@example.com",
        "managers": ["lead@example.com"],
        "allowed_domains": ["example.com"],
        "digest_day": "monday",
    }
    email_table |= email_overrides
    return parse_config(
        {
            "sheet": {"backend": "xlsx", "path": "okrs.xlsx"},
            "cycle": {"start": CYCLE_START, "end": CYCLE_END},
            "email": email_table,
            "state": {"dir": "state"},
        },
        base=tmp_path,
    )


def read_eml(path: Path) -> EmailMessage:
    """An .eml file parsed with the modern policy."""
    with path.open("rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text/plain and text/html bodies of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def parse_html(markup: str) -> Any:
    """An ElementTree of ``markup`` parsed by html5lib (what a browser would build)."""
    return html5lib.parse(markup, namespaceHTMLElements=False)


_BLOCKS = frozenset(
    {"p", "td", "th", "tr", "li", "ul", "ol", "div", "h1", "h2", "h3", "br", "table"}
)


def text_of(element: Any) -> str:
    """The text of ``element`` as a reader sees it: blocks apart, whitespace collapsed."""

    def walk(e: Any) -> list[str]:
        block = e.tag in _BLOCKS
        out = [" "] if block else []
        out.append(e.text or "")
        for child in e:
            out.extend(walk(child))
            out.append(child.tail or "")
        if block:
            out.append(" ")
        return out

    return " ".join("".join(walk(element)).split())


def section(tree: Any, key: str) -> Any:
    """The digest section (card table) whose data-section is ``key``."""
    found = tree.findall(f".//table[@data-section='{key}']")
    assert len(found) == 1, f"expected one section {key!r}, found {len(found)}"
    return found[0]


def kr_ids(element: Any) -> list[str]:
    """The KR IDs listed in ``element`` (cells and items marked with data-kr)."""
    return [e.get("data-kr") for e in element.iter() if e.get("data-kr")]


def realistic_table(today: dt.date = TODAY) -> tuple[pd.DataFrame, list[RowIssue]]:
    """An example sheet of two teams with something in every digest section.

    Used by the section tests and by ``scripts/sample_digest.py`` (the docs screenshots).
    """
    revisit = "Health: off track for 3 check-ins in a row; consider revisiting this KR"
    revenue = "Grow self-serve revenue"
    delight = "Delight new customers"
    reliable = "Make the product fast and reliable"
    people = {
        "Priya Patel": "priya@example.com",
        "Marco Rossi": "marco@example.com",
        "Sam Lee": "sam@example.com",
        "Jo Müller": "jo@example.com",
        "Ade Okafor": "ade@example.com",
    }

    def kr(objective: str, text: str, owner: str, progress: float, health: str | None,
           checked: int | None = None, **values: Any) -> dict[str, Any]:  # fmt: skip
        row = {
            "Objective": objective, "Key Result": text, "Owner": owner,
            "Owner Email": people[owner], "Progress": progress, "Expected": 0.52,
            "Health": health, "Team": "Platform" if objective == reliable else "Growth",
        }  # fmt: skip
        if checked is not None:  # checked in `checked` days ago, weekly
            row |= {
                "Check-in Date": today - dt.timedelta(days=checked),
                "Days Since Check-in": float(checked),
                "Next Check-in": today + dt.timedelta(days=7 - checked),
            }
        return row | values

    rows = [
        kr(revenue, "Raise monthly recurring revenue from $80k to $120k", "Priya Patel",
           0.55, "on track", 2, Trend="↑", Comment="Annual plan launch helped",
           **{"Next Steps": "Ship the annual-plan upsell email"}),
        kr(revenue, "Cut trial-to-paid drop-off from 70% to 55%", "Priya Patel", 0.2,
           "off track", Type="decrease", Trend="↓",
           **{"Owner Health": "on track",
              "Blockers": "Checkout analytics broken since the release",
              "Next Steps": "Pair with data team on the funnel"},
           **overdue(days=11, today=today)),
        kr(revenue, "Launch pricing page experiment", "Marco Rossi", 1.0, "done", 1,
           Type="boolean", Comment="Variant B won by 8%"),
        kr(revenue, "Reach 400 weekly sign-ups", "Marco Rossi", 0.38, "at risk", 4,
           Blockers="Paid ads budget frozen until December",
           **{"Next Steps": "Test two organic channels; ask finance about the freeze"}),
        kr(delight, "Onboarding NPS at least 45", "Sam Lee", 1.0, "on track", 3,
           Type="at least", **{"Next Steps": "Interview five churned trials"}),
        kr(delight, "Time to first value under 10 minutes", "Priya Patel", 0.1, "off track",
           Type="decrease", Blockers="Needs the new setup wizard (Platform team)",
           **{"Owner Health": "at risk", "Sync Notes": revisit},
           **overdue(days=16, today=today)),
        kr(delight, "Help-centre articles for the top 20 questions", "Sam Lee", 0.45,
           "on track", Type="percent", **overdue(days=9, today=today)),
        kr(reliable, "API uptime at least 99.9%", "Jo Müller", 1.0, "on track", 6,
           Type="at least", Trend="→"),
        kr(reliable, "p95 page load from 2.4s to 1.2s", "Jo Müller", 0.3, "at risk", 5,
           Type="decrease", Trend="↑", Blockers="CDN contract still in review",
           **{"Next Steps": "Ship image lazy-loading"}),
        kr(reliable, "Setup wizard in beta", "Ade Okafor", 0.0, "off track", Type="boolean",
           Comment="Design done, build starts next week",
           **{"Owner Health": "on track", "Next Steps": "Staff the build"},
           **overdue(days=8, today=today)),
        kr(reliable, "Migrate billing to the new queue", "Ade Okafor", 0.15, "off track",
           **overdue(days=30, today=today)),
        kr(reliable, "Cut error budget burn by half", "Jo Müller", 0.5, "on track",
           **{"Owner Health": "greenish",
              "Sync Notes": 'Owner Health: "greenish" is not on track, at risk or off track'}),
        kr(reliable, "Zero P1 incidents in December", "Ade Okafor", None, None, Current=None,
           **error_row('Current: "about half" is not a number')),
    ]  # fmt: skip
    table = make_table(rows, today)
    issues = [
        RowIssue(13, "Owner Health", "greenish", "is not on track, at risk or off track", False),
        RowIssue(14, "Current", "about half", "is not a number"),
        RowIssue(7, "Health", None, revisit.removeprefix("Health: "), error=False),
    ]
    return table, issues
