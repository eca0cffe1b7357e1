"""What the emails say: the digest (check-in meeting notes) and the owner reminder.

This module turns a sync's table into plain view objects and renders them through the
jinja2 templates in ``okrsync/templates`` (or a team's own, ``[email] templates``). It
decides nothing about who gets what or when: that is :mod:`okrsync.notify`.

The digest follows a good check-in meeting: a question to open with, the headline
counts, the objectives, wins, risks, where owners are rosier than the numbers, overdue
check-ins, KRs to revisit, stalled KRs, action items, and rows to fix.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from okrsync.columns import HEALTH_ORDER, Col, Health, KrType
from okrsync.errors import NotifyError, RowIssue
from okrsync.mail import one_line

__all__ = [
    "REVISIT_MARK",
    "DigestNotes",
    "Group",
    "HeadlineCount",
    "Item",
    "KrView",
    "ObjectiveView",
    "OwnerActions",
    "Problem",
    "ReminderNotes",
    "Renderer",
    "digest_notes",
    "kr_views",
    "pick_question",
    "reminder_notes",
]

#: The words of the History warning (contract §5): kept out of "rows with problems", since
#: the KR has its own "to revisit" section, and what marks a KR to revisit in a table that
#: has no ``revisit`` column.
REVISIT_MARK = "consider revisiting this KR"
_REVISIT_RE = re.compile(r"off track for \d+ check-ins in a row", re.IGNORECASE)
#: Worst first, so an objective's health is the minimum rank of its KRs'.
HEALTH_RANK: dict[str, int] = {h.value: i for i, h in enumerate(HEALTH_ORDER)}
ORG_SCOPE = "All teams"
#: At most this many KRs a digest section (and a reminder) lists; the rest are counted.
SECTION_LIMIT = 40
ACTIONS_LIMIT = 100
OBJECTIVES_LIMIT = 60


# --- views ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def _date(value: Any) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def pct(value: float | None) -> str:
    """``0.456`` as ``46%``; ``None`` as an em dash."""
    return "—" if value is None else f"{round(value * 100)}%"


@dataclass(frozen=True)
class KrView:
    """One KR as the templates see it (plain Python values, sheet text unescaped)."""

    id: str
    objective: str
    key_result: str
    owner: str
    team: str
    email: str | None
    progress: float | None
    expected: float | None
    health: str | None
    owner_health: str | None
    overdue: bool
    days_since: int | None
    checkin: dt.date | None
    next_checkin: dt.date | None
    trend: str | None
    comment: str
    blockers: str
    next_steps: str
    sync_notes: str
    row: int
    error: bool
    #: The KR's Type (a :class:`~okrsync.columns.KrType` value), when known.
    kind: str | None = None

    @property
    def progress_text(self) -> str:
        """``40% done, 55% expected``: progress against the pace the calendar asks for.

        An ``at least`` / ``at most`` KR is kept, not reached, and has no pace: its
        Progress is 1 or 0, so it reads ``target met`` or ``target not met``.
        """
        if self.progress is None:
            return "not computed"
        if self.kind in (KrType.AT_LEAST, KrType.AT_MOST):
            return "target met" if self.progress >= 1 else "target not met"
        if self.expected is None:
            return f"{pct(self.progress)} done"
        return f"{pct(self.progress)} done, {pct(self.expected)} expected"

    @property
    def checkin_text(self) -> str:
        """``last check-in 12 days ago (2026-11-04)`` or ``no check-in yet``."""
        if self.checkin is None:
            return "no check-in yet"
        days = self.days_since
        ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
        return f"last check-in {ago} ({self.checkin.isoformat()})"


def kr_views(frame: pd.DataFrame) -> list[KrView]:
    """The rows of a sync table as :class:`KrView`, in sheet order."""
    if frame.empty:
        return []
    get = frame.get
    n = len(frame)
    blank = pd.Series([None] * n, index=frame.index, dtype=object)
    cols = {
        "id": get(Col.ID.value, blank),
        "objective": get(Col.OBJECTIVE.value, blank),
        "key_result": get(Col.KEY_RESULT.value, blank),
        "owner": get(Col.OWNER.value, blank),
        "team": get(Col.TEAM.value, blank),
        "email": get(Col.OWNER_EMAIL.value, blank),
        "progress": get(Col.PROGRESS.value, blank),
        "expected": get(Col.EXPECTED.value, blank),
        "health": get(Col.HEALTH.value, blank),
        "owner_health": get(Col.OWNER_HEALTH.value, blank),
        "overdue": get(Col.OVERDUE.value, blank),
        "days_since": get(Col.DAYS_SINCE.value, blank),
        "checkin": get(Col.CHECKIN_DATE.value, blank),
        "next_checkin": get(Col.NEXT_CHECKIN.value, blank),
        "trend": get(Col.TREND.value, blank),
        "comment": get(Col.COMMENT.value, blank),
        "blockers": get(Col.BLOCKERS.value, blank),
        "next_steps": get(Col.NEXT_STEPS.value, blank),
        "sync_notes": get(Col.SYNC_NOTES.value, blank),
        "row": get("row", pd.Series(range(2, n + 2), index=frame.index)),
        "error": get("error", pd.Series([False] * n, index=frame.index)),
        "kind": get(Col.TYPE.value, blank),
    }
    out = []
    for r in pd.DataFrame(cols).to_dict("records"):
        days = _num(r["days_since"])
        out.append(
            KrView(
                # One-line fields: a stray line break in a name cell must not break layout.
                id=one_line(_text(r["id"])),
                objective=one_line(_text(r["objective"])) or "(no objective)",
                key_result=one_line(_text(r["key_result"])),
                owner=one_line(_text(r["owner"])) or "(no owner)",
                team=one_line(_text(r["team"])),
                email=_text(r["email"]) or None,
                progress=_num(r["progress"]),
                expected=_num(r["expected"]),
                health=_text(r["health"]) or None,
                owner_health=_text(r["owner_health"]) or None,
                overdue=r["overdue"] == "yes",
                days_since=None if days is None else int(days),
                checkin=_date(r["checkin"]),
                next_checkin=_date(r["next_checkin"]),
                trend=_text(r["trend"]) or None,
                comment=_text(r["comment"]),
                blockers=_text(r["blockers"]),
                next_steps=_text(r["next_steps"]),
                sync_notes=_text(r["sync_notes"]),
                row=int(r["row"]),
                error=bool(r["error"]),
                kind=_text(r["kind"]) or None,
            )
        )
    return out


@dataclass(frozen=True)
class ObjectiveView:
    """An objective: the mean progress of its KRs and its weakest KR's health."""

    name: str
    progress: float | None
    health: str | None
    kr_count: int


@dataclass(frozen=True)
class Item:
    """A KR listed in a digest section, with the one line that says why it is there."""

    kr: KrView
    note: str = ""


@dataclass(frozen=True)
class Group:
    """A section's KRs under one objective (the objective's figures cover all its KRs)."""

    objective: ObjectiveView
    items: list[Item]


@dataclass(frozen=True)
class HeadlineCount:
    """One headline number, with its change since the last digest when known."""

    key: str
    label: str
    count: int
    delta: int | None
    health: str | None = None  # which label colour, when it is a health

    @property
    def delta_text(self) -> str:
        if self.delta is None:
            return ""
        return "±0" if self.delta == 0 else f"{self.delta:+d}"


@dataclass(frozen=True)
class OwnerActions:
    """An owner's planned next steps, one per KR."""

    owner: str
    items: list[KrView]


@dataclass(frozen=True)
class Problem:
    """A sheet row with errors or warnings, and what to fix."""

    row: int
    id: str
    error: bool
    notes: list[str]


@dataclass(frozen=True)
class DigestNotes:
    """Everything a digest template shows."""

    scope: str
    subject: str
    today: dt.date
    since: dt.date
    iso_year: int
    iso_week: int
    question: str
    location: str
    headline: list[HeadlineCount]
    objectives: list[ObjectiveView]
    wins: list[Group]
    risks: list[Group]
    rosier: list[Group]
    overdue: list[Group]
    revisit: list[Group]
    stalled: list[Group]
    actions: list[OwnerActions]
    problems: list[Problem]
    counts: dict[str, int] = field(default_factory=dict)
    has_previous: bool = False
    #: Section key -> how many KRs (or rows, or next steps) were left out for length.
    more: dict[str, int] = field(default_factory=dict)

    @property
    def location_is_url(self) -> bool:
        return self.location.startswith(("https://", "http://"))

    @property
    def total(self) -> int:
        return self.counts.get("krs", 0)


def pick_question(today: dt.date, questions: Sequence[str] | None = None) -> str:
    """This ISO week's opening question: the list rotates one question a week."""
    pool = list(questions) if questions is not None else load_questions()
    if not pool:
        return ""
    year, week, _ = today.isocalendar()
    return pool[(year * 53 + week) % len(pool)]


def load_questions() -> list[str]:
    """The shipped icebreaker questions (``okrsync/data/questions.txt``); # lines skipped."""
    text = resources.files("okrsync").joinpath("data/questions.txt").read_text(encoding="utf-8")
    return [q.strip() for q in text.splitlines() if q.strip() and not q.lstrip().startswith("#")]


def _objectives(frame: pd.DataFrame) -> dict[str, ObjectiveView]:
    """Objective figures, whole-column: mean Progress, weakest Health, in sheet order."""
    if frame.empty:
        return {}
    # Whole-column one_line(): the same names KrView.objective carries.
    obj = (
        _strings(frame, Col.OBJECTIVE.value)
        .str.replace(r"[\s\x00-\x1f\x7f\u2028\u2029]+", " ", regex=True)
        .str.strip()
        .replace("", "(no objective)")
    )
    rank = frame[Col.HEALTH.value].map(HEALTH_RANK)
    grouped = pd.DataFrame(
        {"objective": obj, "progress": frame[Col.PROGRESS.value].astype("float64"), "rank": rank}
    ).groupby("objective", sort=False)
    agg = grouped.agg(
        progress=("progress", "mean"), worst=("rank", "min"), krs=("progress", "size")
    )
    return {
        str(name): ObjectiveView(
            name=str(name),
            progress=_num(progress),
            health=None if pd.isna(worst) else HEALTH_ORDER[int(worst)].value,
            kr_count=int(krs),
        )
        for name, progress, worst, krs in agg.itertuples()
    }


def _group(
    views: Iterable[KrView], objectives: Mapping[str, ObjectiveView], notes: Mapping[str, str]
) -> list[Group]:
    """Items under their objectives, objectives in sheet order, KRs in sheet order."""
    by_obj: dict[str, list[Item]] = {}
    for kr in views:
        by_obj.setdefault(kr.objective, []).append(Item(kr, notes.get(kr.id, "")))
    position = {name: i for i, name in enumerate(objectives)}
    return [
        Group(objectives.get(name) or ObjectiveView(name, None, None, len(items)), items)
        for name, items in sorted(by_obj.items(), key=lambda kv: position.get(kv[0], len(position)))
    ]


def _problems(views: Sequence[KrView], issues: Sequence[RowIssue]) -> list[Problem]:
    """Rows with errors or warnings, with the notes to fix (the revisit warning has its
    own section). Falls back to Sync Notes for a row no RowIssue describes."""
    rows = {kr.row for kr in views}
    by_row: dict[int, list[RowIssue]] = {}
    for issue in issues:
        if issue.row in rows:
            by_row.setdefault(issue.row, []).append(issue)
    out = []
    for kr in views:
        found = by_row.get(kr.row)
        if found:
            notes = [i.note for i in found if REVISIT_MARK not in i.note]
            error = kr.error or any(i.error for i in found)
        else:
            revisit_only = REVISIT_MARK in kr.sync_notes and not kr.error
            notes = [kr.sync_notes] if kr.sync_notes and not revisit_only else []
            error = kr.error
        if notes:
            out.append(Problem(row=kr.row, id=kr.id, error=error, notes=notes))
    return out


def headline_counts(frame: pd.DataFrame) -> dict[str, int]:
    """The digest's headline numbers, by health and overdue (stored to compare next time)."""
    health = _column(frame, Col.HEALTH.value).value_counts()
    return {
        "krs": len(frame),
        **{h.value: int(health.get(h.value, 0)) for h in Health},
        "overdue": int((_column(frame, Col.OVERDUE.value) == "yes").sum()),
        "errors": int(_column(frame, "error").fillna(value=False).astype(bool).sum()),
    }


_HEADLINE = (
    ("krs", "Key results", None),
    (Health.ON_TRACK.value, "On track", Health.ON_TRACK.value),
    (Health.AT_RISK.value, "At risk", Health.AT_RISK.value),
    (Health.OFF_TRACK.value, "Off track", Health.OFF_TRACK.value),
    (Health.DONE.value, "Done", Health.DONE.value),
    ("overdue", "Overdue", None),
    ("errors", "Row errors", None),
)


def _column(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame:
        return frame[col]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _strings(frame: pd.DataFrame, col: str) -> pd.Series:
    return _column(frame, col).fillna("").astype(str).str.strip()


def _to_revisit(frame: pd.DataFrame, notes_text: pd.Series) -> pd.Series:
    """The KRs to revisit: the sync table's boolean ``revisit`` column (set from History).

    A table without that column (one built by hand, or by an older pipeline) falls back to
    the warning's words in Sync Notes.
    """
    if "revisit" in frame:
        # eq(True), not fillna: a blank in an object column is simply "no".
        return frame["revisit"].eq(True)
    return notes_text.str.contains(REVISIT_MARK, case=False, regex=False)


def digest_notes(
    frame: pd.DataFrame,
    issues: Sequence[RowIssue],
    *,
    scope: str,
    today: dt.date,
    since: dt.date,
    previous: Mapping[str, int] | None,
    stalled: Mapping[str, int],
    location: str,
    question: str,
) -> DigestNotes:
    """The notes of one digest.

    Which KRs go in which section is decided whole-column; only the KRs shown (at most
    :data:`SECTION_LIMIT` a section, the rest counted as "more") become view objects, so
    a very large sheet still gives a readable email quickly.

    :param frame: the sync table, already cut to the digest's team (or the whole sheet);
        its boolean ``revisit`` column, when there, says which KRs to revisit.
    :param issues: the sync's row issues (those of other rows are ignored).
    :param scope: ``"All teams"`` or the team name (shown in the subject).
    :param since: the previous digest's day: check-ins from then on count as new.
    :param previous: the previous digest's headline counts, for the changes.
    :param stalled: KR ID -> reminders sent with no new check-in (3 or more).
    """
    f = frame
    counts = headline_counts(f)
    objectives = _objectives(f)
    headline = [
        HeadlineCount(
            key=key,
            label=label,
            count=counts[key],
            delta=None if previous is None or key not in previous else counts[key] - previous[key],
            health=health,
        )
        for key, label, health in _HEADLINE
        if key != "errors" or counts["errors"]
    ]

    error = _column(f, "error").fillna(value=False).astype(bool)
    good = ~error
    health = _column(f, Col.HEALTH.value)
    rank = health.map(HEALTH_RANK)
    owner_rank = _column(f, Col.OWNER_HEALTH.value).map(HEALTH_RANK)
    ids = _strings(f, Col.ID.value)
    checkin = pd.to_datetime(_column(f, Col.CHECKIN_DATE.value))
    is_overdue = _column(f, Col.OVERDUE.value) == "yes"
    notes_text = _strings(f, Col.SYNC_NOTES.value)
    is_stalled = ids.isin(list(stalled)) & is_overdue
    issue_rows = {i.row for i in issues}
    trend = _column(f, Col.TREND.value)
    masks = {
        # Wins are check-ins since the last digest (so a KR done in October is not
        # celebrated every week): done, moving up, or on track and not moving down (a KR
        # that slipped since its previous check-in is no win, even while still on pace).
        "wins": good
        & (checkin >= pd.Timestamp(since))
        & (
            health.eq(Health.DONE.value)
            | trend.eq("↑")
            | (health.eq(Health.ON_TRACK.value) & trend.ne("↓"))
        ),
        "risks": good & health.isin([Health.AT_RISK.value, Health.OFF_TRACK.value]),
        "rosier": good & (owner_rank > rank),
        "overdue": good & is_overdue & ~is_stalled,
        "revisit": _to_revisit(f, notes_text),
        "stalled": is_stalled,
        "problems": error | (notes_text != "") | _column(f, "row").isin(issue_rows),
    }
    shown = {k: m[m].index[:SECTION_LIMIT] for k, m in masks.items()}
    more = {k: int(m.sum()) - len(shown[k]) for k, m in masks.items()}
    steps = _strings(f, Col.NEXT_STEPS.value)
    with_steps = f[steps != ""]
    owners = _strings(with_steps, Col.OWNER.value).str.casefold()
    action_index = owners.sort_values(kind="stable").index[:ACTIONS_LIMIT]
    more["actions"] = len(with_steps) - len(action_index)
    more["objectives"] = max(0, len(objectives) - OBJECTIVES_LIMIT)

    wanted = action_index
    for index in shown.values():
        wanted = wanted.union(index)
    views = dict(zip(wanted, kr_views(f.loc[wanted]), strict=True))

    def pick(key: str) -> list[KrView]:
        return [views[i] for i in shown[key]]

    win_notes = {}
    for kr in pick("wins"):
        why = {Health.DONE.value: ["done"], Health.ON_TRACK.value: ["on track"]}.get(
            kr.health or "", []
        )
        if kr.trend == "↑":
            why.append("moving up since the previous check-in")
        assert kr.checkin is not None
        win_notes[kr.id] = f"Checked in {kr.checkin.isoformat()}: " + ", ".join(why)
    risk_notes = {kr.id: kr.progress_text for kr in pick("risks")}
    rosier_notes = {
        kr.id: f"Owner says {kr.owner_health}; the numbers say {kr.health} ({kr.progress_text})"
        for kr in pick("rosier")
    }
    overdue_notes = {
        kr.id: kr.checkin_text.capitalize()
        + (f"; was due {kr.next_checkin.isoformat()}" if kr.next_checkin else "")
        for kr in pick("overdue")
    }
    revisit_notes = {}
    for kr in pick("revisit"):
        m = _REVISIT_RE.search(kr.sync_notes)
        revisit_notes[kr.id] = (m[0] if m else "off track at its last check-ins").capitalize()
    stalled_notes = {
        kr.id: f"{stalled[kr.id]} reminders, no check-in since "
        + (kr.checkin.isoformat() if kr.checkin else "the cycle started")
        + "; reminders stopped"
        for kr in pick("stalled")
    }
    by_owner: dict[str, list[KrView]] = {}
    for i in action_index:
        by_owner.setdefault(views[i].owner, []).append(views[i])

    year, week, _ = today.isocalendar()
    scope = one_line(scope)
    return DigestNotes(
        scope=scope,
        subject=f"OKR check-in notes — {scope} — week {week}, {year}",
        today=today,
        since=since,
        iso_year=year,
        iso_week=week,
        question=question,
        location=location,
        headline=headline,
        objectives=list(objectives.values())[:OBJECTIVES_LIMIT],
        wins=_group(pick("wins"), objectives, win_notes),
        risks=_group(pick("risks"), objectives, risk_notes),
        rosier=_group(pick("rosier"), objectives, rosier_notes),
        overdue=_group(pick("overdue"), objectives, overdue_notes),
        revisit=_group(pick("revisit"), objectives, revisit_notes),
        stalled=_group(pick("stalled"), objectives, stalled_notes),
        actions=[OwnerActions(o, krs) for o, krs in by_owner.items()],
        problems=_problems(pick("problems"), issues),
        counts=counts,
        has_previous=previous is not None,
        more=more,
    )


@dataclass(frozen=True)
class ReminderNotes:
    """Everything a reminder template shows: one owner, their overdue KRs."""

    owner: str
    subject: str
    today: dt.date
    location: str
    krs: list[KrView]
    #: KR IDs for which this is the last reminder before they are listed as stalled.
    last_call: frozenset[str] = frozenset()
    #: Overdue KRs left out of the list for length.
    more: int = 0

    @property
    def location_is_url(self) -> bool:
        return self.location.startswith(("https://", "http://"))


def reminder_notes(
    krs: Sequence[KrView], *, today: dt.date, location: str, last_call: Iterable[str] = ()
) -> ReminderNotes:
    """The reminder to the owner of ``krs`` (all theirs, all overdue)."""
    owner = krs[0].owner if krs else ""
    n = len(krs)
    what = "1 key result" if n == 1 else f"{n} key results"
    return ReminderNotes(
        owner=owner,
        subject=f"Time for your OKR check-in: {what} waiting",
        today=today,
        location=location,
        krs=list(krs[:SECTION_LIMIT]),
        last_call=frozenset(last_call),
        more=max(0, n - SECTION_LIMIT),
    )


# --- rendering ------------------------------------------------------------------------


HEALTH_STYLE: dict[str, tuple[str, str]] = {
    # background, text: contrast >= 4.5:1 on both, and the same in light and dark mode.
    Health.DONE.value: ("#6639ba", "#ffffff"),
    Health.ON_TRACK.value: ("#1a7f37", "#ffffff"),
    Health.AT_RISK.value: ("#f2c744", "#1f2328"),
    Health.OFF_TRACK.value: ("#c9252d", "#ffffff"),
}
UNKNOWN_STYLE = ("#6e7781", "#ffffff")
#: Light-mode colours and the font stack; the templates' <style> block maps them to dark.
CSS = {
    "fg": "#1f2328",
    "muted": "#59636e",
    "rule": "#d1d9e0",
    "font": "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,"
    "sans-serif;",
}


class Renderer:
    """The jinja2 templates: a team's override folder first, okrsync's own second.

    Autoescaping is on for ``.html`` templates (``digest.html.j2``), off for text ones.
    Undefined names are errors, so a broken override template fails loudly.
    """

    def __init__(self, templates: Path | None = None) -> None:
        self.templates = templates
        self.env = _environment(templates)

    def render(self, name: str, **context: Any) -> str:
        """Render one template, turning template errors into a :class:`NotifyError`."""
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateError as e:
            where = f" (looked in {self.templates} first)" if self.templates else ""
            raise NotifyError(
                f"Email template {name} cannot be rendered{where}: {e}; fix the template."
            ) from e

    def digest(self, notes: DigestNotes) -> tuple[str, str]:
        """The digest's plain-text and HTML bodies."""
        return (
            self.render("digest.txt.j2", notes=notes),
            self.render("digest.html.j2", notes=notes),
        )

    def reminder(self, notes: ReminderNotes) -> tuple[str, str]:
        """The reminder's plain-text and HTML bodies."""
        return (
            self.render("reminder.txt.j2", notes=notes),
            self.render("reminder.html.j2", notes=notes),
        )


@functools.lru_cache(maxsize=8)
def _environment(templates: Path | None) -> jinja2.Environment:
    # Cached: compiling the templates costs more than rendering them, and a scheduled
    # `okrsync run` renders every sync. auto_reload still picks up edited overrides.
    package = jinja2.FileSystemLoader(str(resources.files("okrsync").joinpath("templates")))
    loaders: list[jinja2.BaseLoader] = [package]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(templates)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "html.j2"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["pct"] = pct
    env.globals["health_style"] = health_style
    env.globals["health_color"] = lambda h: HEALTH_STYLE.get(h or "", UNKNOWN_STYLE)[0]
    env.globals["C"] = CSS
    return env


def health_style(health: str | None) -> str:
    """Inline CSS of a health label (the label always carries the words too)."""
    bg, fg = HEALTH_STYLE.get(health or "", UNKNOWN_STYLE)
    return (
        f"background-color:{bg};color:{fg};border-radius:3px;padding:1px 6px;"
        "font-size:11px;font-weight:bold;letter-spacing:0.4px;text-transform:uppercase;"
        "white-space:nowrap;display:inline-block;line-height:16px;"
    )
