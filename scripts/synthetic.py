"""Synthetic check-in sheets for benchmarks: many realistic KR rows, fast.

``make_rows(n, seed)`` returns the header and ``n`` rows of typed cells as a backend
would hand them over (``str``, ``int``, ``float``, :class:`~okrsync.backends.base.Percent`,
``datetime``, ``None``), with the mix a real sheet has: every KR type and blank types,
numbers as cells and as text (``1,200``, ``$4,500``, ``75%``), dates as cells and as ISO
text, all cadence spellings, blank IDs, and about 2% of rows carrying one cell okrsync
cannot read (``abc`` in Current, ``next week`` in Check-in Date...).

Values are drawn column by column with numpy, so 100k rows take well under a second or
two; the same ``(n, seed)`` always gives the same rows.

    python scripts/synthetic.py 10000 build/synthetic.xlsx
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from okrsync.backends.base import Percent  # noqa: E402
from okrsync.columns import OWNER_COLUMNS, Col  # noqa: E402

__all__ = ["CYCLE_END", "CYCLE_START", "HEADER", "TODAY", "make_rows", "write_workbook"]

HEADER: list[str] = [c.value for c in OWNER_COLUMNS]
CYCLE_START = dt.date(2026, 10, 1)
CYCLE_END = dt.date(2026, 12, 31)
#: The "today" the rows are made for: check-ins fall between the cycle start and here.
TODAY = dt.date(2026, 11, 16)

_TYPES = ["increase", "decrease", "at least", "at most", "boolean", "percent", None]
_TYPE_P = [0.34, 0.14, 0.07, 0.07, 0.10, 0.10, 0.18]
_HEALTH = ["on track", "at risk", "off track", "On Track", "green", "amber", "red", None]
_HEALTH_P = [0.30, 0.15, 0.08, 0.07, 0.05, 0.05, 0.03, 0.27]
_CADENCE = [None, "weekly", "Weekly", "biweekly", "bi-weekly", "monthly", "10d", 14]
_CADENCE_P = [0.35, 0.30, 0.05, 0.12, 0.03, 0.10, 0.03, 0.02]
_DONE = ["done", "yes", "no", "x", "✓", "false", None, "TRUE"]
_DONE_P = [0.25, 0.10, 0.25, 0.05, 0.05, 0.05, 0.20, 0.05]
_FIRST = ["Maya", "Tom", "Priya", "Lars", "Ana", "Kenji", "Fatima", "Diego", "Hannah", "Sam"]
_LAST = ["Chen", "Okafor", "Natarajan", "Eriksson", "Souza", "Watanabe", "Schulz", "Novak"]
_TEAMS = [
    "Growth", "Platform", "Customer Success", "Data", "Mobile", "Payments", "Security",
    "Design", "Marketing", "Sales", "Support", "People",
]  # fmt: skip
_VERBS = ["Grow", "Make", "Ship", "Keep", "Win", "Build", "Simplify", "Scale"]
_THINGS = [
    "self-serve signups", "the product fast", "releases boring", "customers happy",
    "the enterprise market", "a team people want to join", "billing", "the data platform",
]  # fmt: skip
_METRICS = [
    "weekly signups", "p95 latency (ms)", "deploys per week", "NPS", "MRR ($)",
    "tickets per week", "onboarding completion", "CI minutes", "open incidents",
]  # fmt: skip
_COMMENTS = [
    "Steady progress this week.", "Blocked most of the week; see Blockers.",
    "Experiment finished, results in the doc.", "Shipped the first half.", None,
    "Numbers from the Monday dashboard.", "Slower than planned, recovering.",
]  # fmt: skip
_BLOCKERS = [None, None, None, "Waiting on Legal.", "Needs budget approval.", "Flaky tests."]
_NEXT = [None, "Ship the next slice.", "Review with the team.", "Run the follow-up test."]

# Cells an owner types by mistake, per column; one of them lands on ~2% of rows.
_BAD: dict[str, list[Any]] = {
    Col.CURRENT: ["abc", "tbd", "n/a", "12,34", "--5"],
    Col.TARGET: ["lots", "1.2.3", "?"],
    Col.START: ["none", "~50"],
    Col.CHECKIN_DATE: ["next week", "31/02/2026", "2026-13-01", "yesterday"],
    Col.DUE_DATE: ["end of Q4", "2026-11-31"],
    Col.CADENCE: ["sometimes", "0", "every day"],
    Col.TYPE: ["more", "growth", "up"],
    Col.OWNER_EMAIL: ["maya at example.com", "a@example.com, b@example.com", "Ann"],
}


def _choice(rng: np.random.Generator, options: list[Any], p: list[float], n: int) -> list[Any]:
    idx = rng.choice(len(options), size=n, p=np.asarray(p) / sum(p))
    return [options[i] for i in idx.tolist()]


def _fmt_number(value: float, kind: int) -> Any:
    """A number as a sheet holds it: 0 cell, 1 "1,234" text, 2 "3.5" text, 3 "$1,234" text."""
    if kind == 0:
        return int(value) if value == int(value) else value
    if kind == 1:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    if kind == 2:
        return f"{value:g}"
    return f"${value:,.0f}"


def _key_result(kind: str, metric: str, start: float, target: float, limit: float) -> str:
    if kind in ("at least", "at most"):
        return f"Keep {metric} {kind} {limit:.1%}"
    if kind == "boolean":
        return f"Launch the new {metric} report"
    if kind == "percent":
        return f"Finish the {metric} clean-up"
    return f"Move {metric} from {start:g} to {target:g}"


def make_rows(n: int, seed: int = 0) -> list[list[Any]]:
    """Return ``[HEADER, row_1, ..., row_n]``: ``n`` synthetic KR rows of typed cells.

    :param n: the number of KR rows (the header comes on top of them).
    :param seed: the random seed; the same ``(n, seed)`` gives the same rows.
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(n)

    ids: list[Any] = [f"KR-{i:04d}" for i in (idx + 1).tolist()]
    for i in np.flatnonzero(rng.random(n) < 0.01).tolist():
        ids[i] = None  # okrsync fills these

    n_obj = max(1, n // 4)
    obj_of = np.sort(rng.integers(0, n_obj, n))  # KRs of an objective sit together
    objective_names = [
        f"{_VERBS[k % len(_VERBS)]} {_THINGS[(k // len(_VERBS)) % len(_THINGS)]} (O{k + 1})"
        for k in range(n_obj)
    ]
    objectives = [objective_names[k] for k in obj_of.tolist()]
    team_of_obj = rng.integers(0, len(_TEAMS) + 1, n_obj)  # the extra index: no team
    teams = [_TEAMS[t] if t < len(_TEAMS) else None for t in team_of_obj[obj_of].tolist()]

    n_owners = max(1, min(500, n // 5))
    owner_of = rng.integers(0, n_owners, n).tolist()
    owner_names = [
        f"{_FIRST[k % len(_FIRST)]} {_LAST[(k // len(_FIRST)) % len(_LAST)]} {k}"
        for k in range(n_owners)
    ]
    owners = [owner_names[k] for k in owner_of]
    emails: list[Any] = [f"owner{k}@example.com" for k in owner_of]

    types = _choice(rng, _TYPES, _TYPE_P, n)
    metrics = rng.integers(0, len(_METRICS), n).tolist()

    # Numbers: a Start, a Target on the KR's side of it, and a Current part of the way.
    start = np.round(rng.uniform(0, 1000, n), 0)
    up = rng.uniform(1.2, 2.5, n)
    down = rng.uniform(0.2, 0.8, n)
    blank_type_up = rng.random(n) < 0.6
    kind_arr = np.array([t or ("increase" if b else "decrease") for t, b in
                         zip(types, blank_type_up.tolist(), strict=True)])  # fmt: skip
    target = np.where(kind_arr == "decrease", start * down, start * up)
    target = np.round(target, 0)
    target = np.where(target == start, start + 1, target)
    progress = rng.uniform(-0.1, 1.15, n)
    current = np.round(start + (target - start) * progress, 1)
    num_kind = rng.choice(4, size=(3, n), p=[0.65, 0.15, 0.12, 0.08])

    starts: list[Any] = [None] * n
    targets: list[Any] = [None] * n
    currents: list[Any] = [None] * n
    has_current = rng.random(n) < 0.9
    pct_kind = rng.integers(0, 3, n).tolist()
    done_words = _choice(rng, _DONE, _DONE_P, n)
    limit = np.round(rng.uniform(0.5, 0.99, n), 3)
    limit_val = np.round(limit + rng.uniform(-0.1, 0.1, n), 3)
    s_l, t_l, c_l = start.tolist(), target.tolist(), current.tolist()
    k0, k1, k2 = (num_kind[i].tolist() for i in range(3))
    for i, kind in enumerate(kind_arr.tolist()):
        if kind in ("increase", "decrease"):
            if s_l[i] != 0 or k0[i] != 0:  # a zero Start is often left blank
                starts[i] = _fmt_number(s_l[i], k0[i])
            targets[i] = _fmt_number(t_l[i], k1[i])
            if has_current[i]:
                currents[i] = _fmt_number(c_l[i], k2[i])
        elif kind in ("at least", "at most"):
            targets[i] = Percent(limit[i]) if k1[i] < 2 else f"{limit[i] * 100:g}%"
            if has_current[i]:
                currents[i] = Percent(limit_val[i]) if k2[i] < 2 else f"{limit_val[i] * 100:g}%"
        elif kind == "boolean":
            currents[i] = done_words[i]
        elif has_current[i]:  # percent complete: a percent cell, "45%" text, or a bare 45
            share = round(min(max(progress[i], 0.0), 1.0), 2)
            currents[i] = (Percent(share), f"{share * 100:g}%", round(share * 100))[pct_kind[i]]
    key_results = [
        _key_result(k, _METRICS[m], s, t, lim)
        for k, m, s, t, lim in zip(
            kind_arr.tolist(), metrics, s_l, t_l, limit.tolist(), strict=True
        )
    ]

    # Dates: check-ins between the cycle start and today; a tenth have none yet.
    span = (TODAY - CYCLE_START).days
    offsets = rng.integers(0, span + 1, n).tolist()
    as_text = (rng.random(n) < 0.3).tolist()
    checked = (rng.random(n) < 0.9).tolist()
    checkins: list[Any] = [None] * n
    for i in range(n):
        if checked[i]:
            day = CYCLE_START + dt.timedelta(days=offsets[i])
            checkins[i] = day.isoformat() if as_text[i] else dt.datetime.combine(day, dt.time())
    dues: list[Any] = [None] * n
    for i in np.flatnonzero(rng.random(n) < 0.08).tolist():
        dues[i] = dt.datetime(2026, 11, 1) + dt.timedelta(days=int(i % 60))

    health = _choice(rng, _HEALTH, _HEALTH_P, n)
    cadence = _choice(rng, _CADENCE, _CADENCE_P, n)
    comments = _choice(rng, _COMMENTS, [1] * len(_COMMENTS), n)
    blockers = _choice(rng, _BLOCKERS, [1] * len(_BLOCKERS), n)
    next_steps = _choice(rng, _NEXT, [1] * len(_NEXT), n)

    columns: dict[str, list[Any]] = {
        Col.ID: ids, Col.OBJECTIVE: objectives, Col.KEY_RESULT: key_results,
        Col.OWNER: owners, Col.OWNER_EMAIL: emails, Col.TEAM: teams, Col.TYPE: types,
        Col.START: starts, Col.TARGET: targets, Col.CURRENT: currents,
        Col.OWNER_HEALTH: health, Col.CHECKIN_DATE: checkins, Col.COMMENT: comments,
        Col.BLOCKERS: blockers, Col.NEXT_STEPS: next_steps, Col.CADENCE: cadence,
        Col.DUE_DATE: dues,
    }  # fmt: skip

    # About 2% of rows get one unreadable cell.
    bad_rows = np.flatnonzero(rng.random(n) < 0.02).tolist()
    bad_cols = list(_BAD)
    picks = rng.integers(0, 1 << 30, (len(bad_rows), 2)).tolist()
    for i, (a, b) in zip(bad_rows, picks, strict=True):
        col = bad_cols[a % len(bad_cols)]
        columns[col][i] = _BAD[col][b % len(_BAD[col])]

    rows = [list(r) for r in zip(*(columns[h] for h in HEADER), strict=True)]
    return [list(HEADER), *rows]


def write_workbook(path: str | Path, n: int, seed: int = 0) -> Path:
    """Write ``make_rows(n, seed)`` as a ``Check-ins`` worksheet of an .xlsx workbook.

    Percent cells are written as numbers formatted ``0%`` and date cells as dates, so
    that reading the file back gives the same typed cells. Uses openpyxl's write-only
    mode, which streams rows instead of building the whole sheet in memory.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Check-ins")
    rows = make_rows(n, seed)
    ws.append(rows[0])
    for row in rows[1:]:
        out: list[Any] = []
        for value in row:
            if isinstance(value, Percent):
                cell = WriteOnlyCell(ws, value=float(value))
                cell.number_format = "0.0%"
                out.append(cell)
            elif isinstance(value, dt.datetime):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)
    wb.save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic check-in workbook.")
    parser.add_argument("n", type=int, help="number of KR rows")
    parser.add_argument("output", type=Path, help="the .xlsx file to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"wrote {write_workbook(args.output, args.n, args.seed)}")


if __name__ == "__main__":
    main()
