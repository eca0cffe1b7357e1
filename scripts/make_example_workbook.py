"""Generate ``okrsync/data/example.xlsx``, the workbook ``okrsync demo`` runs on.

It is meant to look like a real team's check-in sheet in the middle of the Q4 2026
cycle (2026-10-01..2026-12-31) as of the demo date, Monday 2026-11-16: three teams,
seven objectives, two dozen KRs of every Type, a few overdue check-ins, and the
mistakes owners really make (``abc`` in Current, ``on trak``, a check-in dated next
week, a blank Target, a copied row that kept its ID, two addresses in one cell).
Cells come in every kind a spreadsheet produces: number cells, numbers typed as text
(``1,200``, ``$45,000``, ``75%``), percent-formatted cells, date cells and dates typed
as ISO text. An unknown ``Notes`` column and a ``Read me`` worksheet are there to show
that okrsync leaves them alone.

A ``History`` worksheet holds most KRs' earlier check-ins, weekly (or at each KR's own
cadence) from early October up to the one before the check-in on the sheet, so the demo
shows Trend going up, down and flat, wins "moving up", and one KR (KR-0007) off track
check-in after check-in, with the revisit warning. Its Progress, Expected and Health are
computed by okrsync itself, as an evening sync on each check-in day would have.

The output is deterministic: fixed data, fixed document timestamps and fixed zip entry
times, so re-running the script on an unchanged data table gives the same workbook.
Run it from the repository root after editing the table below::

    python scripts/make_example_workbook.py

and commit the regenerated file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from okrsync.backends.base import Cell, Percent, SheetTable  # noqa: E402
from okrsync.columns import OWNER_COLUMNS, Col, KrType  # noqa: E402
from okrsync.compute import compute  # noqa: E402
from okrsync.config import load_config  # noqa: E402
from okrsync.history import (  # noqa: E402
    HISTORY_HEADER,
    SYNCED_AT,
    Lookback,
    history_rows,
    parse_history,
)
from okrsync.read import read_table  # noqa: E402
from okrsync.validate import Checked, validate  # noqa: E402

OUTPUT = ROOT / "okrsync" / "data" / "example.xlsx"
CONFIG = ROOT / "okrsync" / "data" / "example.toml"
SHEET_TITLE = "Check-ins"
HISTORY_TITLE = "History"
README_TITLE = "Read me"
NOTES = "Notes"
#: A KR's earlier check-ins, oldest first: ``(Check-in Date, Current as typed)`` or
#: ``(date, Current, Owner Health)`` when the owner's own health was different then.
#: Not a column: the History worksheet is made from these (see :func:`history_rows`).
EARLIER = "earlier check-ins"
#: History rows were recorded by an evening sync on the day of each check-in.
SYNCED_AT_TIME = "T17:00:03Z"
#: The unknown column sits between Owner Health and Check-in Date.
HEADER: list[str] = [c.value for c in OWNER_COLUMNS]
HEADER.insert(HEADER.index(Col.CHECKIN_DATE.value), NOTES)

CYCLE_START = dt.date(2026, 10, 1)
CYCLE_END = dt.date(2026, 12, 31)
DEMO_TODAY = dt.date(2026, 11, 16)
# Fixed document and zip timestamps keep the file byte-stable between runs.
FIXED_TIME = dt.datetime(2026, 9, 28, 9, 0, 0)


class Pct(float):
    """A number cell shown as a percentage (``0.031`` shown as ``3.1%``)."""


def d(text: str) -> dt.date:
    """A real date cell."""
    return dt.date.fromisoformat(text)


G, P, C = "Growth", "Platform", "Customer Success"
G1 = "Grow self-serve signups"
G2 = "Make pricing pay for itself"
P1 = "Make the product fast and reliable"
P2 = "Ship faster with less toil"
C1 = "Customers succeed in their first 30 days"
C2 = "Keep the customers we have"
X1 = "Build a team people want to join"

MAYA = ("Maya Chen", "maya.chen@example.com")
TOM = ("Tom Okafor", "tom.okafor@example.com")
PRIYA = ("Priya Natarajan", "priya.natarajan@example.com")
LARS = ("Lars Eriksson", "lars.eriksson@example.com")
ANA = ("Ana Souza", "ana.souza@example.com")
KENJI = ("Kenji Watanabe", "kenji.watanabe@example.com")
FATIMA = ("Fatima Al-Sayed", "fatima.alsayed@example.com")
DIEGO = ("Diego Ramírez", "diego.ramirez@example.com")
HANNAH = ("Hannah Schulz", "hannah.schulz@example.com")

# One dict per KR; keys are header texts, missing keys are blank cells, and EARLIER holds
# the KR's check-ins before the one on the sheet (they make the History worksheet). The
# comment above each says what okrsync should make of it on 2026-11-16 (Expected 46/91 =
# 0.5055 with the cycle end as due date), so whoever edits the table keeps the demo telling;
# tests/test_example.py pins the Trends and the revisit warning worked out here.
KRS: list[dict[str, Any]] = [
    # On track: (1010 - 800) / 400 = 0.525; Target typed as text with a thousands comma.
    # Trend up: 927 on 6 Nov was 0.3175.
    {
        "ID": "KR-0001", "Objective": G1, "Team": G, "Owner": MAYA, "Type": "increase",
        "Key Result": "Increase weekly self-serve signups from 800 to 1,200",
        "Start": 800, "Target": "1,200", "Current": 1010, "Owner Health": "On track",
        "Check-in Date": d("2026-11-13"), "Cadence": "weekly",
        "Comment": "Pricing-page redesign shipped on 3 Nov; signups up 9% week on week.",
        "Next Steps": "Launch the annual-plan banner test; review the funnel with Tom.",
        EARLIER: [
            ("2026-10-02", 810), ("2026-10-09", 835), ("2026-10-16", 850), ("2026-10-23", 880),
            ("2026-10-30", 905), ("2026-11-06", 927),
        ],
    },
    # At risk (0.4) although the owner says green; percent cells and "2.5%" as text.
    # Trend up from 2.7% (0.1333) on 3 Nov, so a win although at risk.
    {
        "ID": "KR-0002", "Objective": G1, "Team": G, "Owner": TOM, "Type": "increase",
        "Key Result": "Lift landing-page conversion from 2.5% to 4%",
        "Start": "2.5%", "Target": Pct(0.04), "Current": Pct(0.031), "Owner Health": "green",
        "Check-in Date": "2026-11-10", "Cadence": "weekly",
        "Comment": "Two of five experiments done; the hero-copy test won (+0.4 pt).",
        "Blockers": "A/B tooling has been down since the cluster migration; waiting on Platform.",
        "Next Steps": "Run the remaining three tests by hand-split traffic until tooling is back.",
        NOTES: "Paired with KR-0001",
        EARLIER: [
            ("2026-10-06", "2.5%"), ("2026-10-13", Pct(0.026)), ("2026-10-20", Pct(0.027)),
            ("2026-10-27", Pct(0.027)), ("2026-11-03", Pct(0.027)),
        ],
    },
    # Overdue (weekly, last 2 Nov) and off track; its own Due Date typed as text.
    # Trend flat (not done, then or now). Check-ins missed on 19 and 26 Oct; the one
    # before, 12 Oct, was at risk (0 of 11/57 = 0.193 expected), so no revisit warning.
    {
        "ID": "KR-0003", "Objective": G1, "Team": G, "Owner": PRIYA, "Type": "boolean",
        "Key Result": "Launch the referral programme on all plans",
        "Current": "no", "Owner Health": "at risk",
        "Check-in Date": d("2026-11-02"), "Cadence": "Weekly", "Due Date": "2026-11-27",
        "Comment": "Legal review of the reward terms is still open.",
        "Blockers": "Legal needs a decision on cash vs credit rewards.",
        "Next Steps": "Decide on credit rewards with Maya; resend terms to Legal.",
        EARLIER: [("2026-10-05", "no", "on track"), ("2026-10-12", "no")],
    },
    # Blank ID and blank Type (Target < Start, so decrease): (180 - 150) / 60 = 0.5.
    # A row added since the last sync (no ID yet), so nothing in History and no Trend.
    {
        "Objective": G1, "Team": G, "Owner": MAYA,
        "Key Result": "Cut cost per acquisition from $180 to $120",
        "Start": "$180", "Target": "$120", "Current": "$150", "Owner Health": "on track",
        "Check-in Date": d("2026-11-12"), "Cadence": "biweekly",
        "Comment": "Paused the two worst paid-social campaigns.",
        "Next Steps": "Shift the saved budget to search.",
    },
    # Mistake: "abc" in Current is an error (no Trend); money typed as text.
    {
        "ID": "KR-0005", "Objective": G2, "Team": G, "Owner": TOM, "Type": "increase",
        "Key Result": "Grow expansion MRR from $45,000 to $60,000",
        "Start": "$45,000", "Target": "$60,000", "Current": "abc", "Owner Health": "at risk",
        "Check-in Date": d("2026-11-11"), "Cadence": "weekly",
        "Comment": "Finance has not closed October yet; number to follow.",
        "Next Steps": "Get the October MRR export from Finance.",
        EARLIER: [
            ("2026-10-07", "$45,000", "on track"), ("2026-10-14", "$46,200", "on track"),
            ("2026-10-21", "$47,000", "on track"), ("2026-10-28", "$47,800"),
            ("2026-11-04", "$48,500"),
        ],
    },
    # At least, met (34% >= 30%): on track; checked in exactly a week ago, so not overdue.
    # Trend flat: met (Progress 1) at every check-in.
    {
        "ID": "KR-0006", "Objective": G2, "Team": G, "Owner": PRIYA, "Type": "at least",
        "Key Result": "Keep annual plans at least 30% of new revenue",
        "Target": Pct(0.30), "Current": "34%", "Owner Health": "on track",
        "Check-in Date": d("2026-11-09"), "Cadence": "weekly",
        "Comment": "Annual share steady since the two-months-free offer.",
        EARLIER: [
            ("2026-10-05", "32%"), ("2026-10-12", "33%"), ("2026-10-19", "31%"),
            ("2026-10-26", "34%"), ("2026-11-02", "34%"),
        ],
    },
    # At most, not met (15% > 12%): off track. Mistake: "on trak" is a warning.
    # Not met at its last 3 check-ins either (13%, 14%, 16%): off track 4 check-ins in a
    # row, so the revisit warning and the digest's "to revisit". Trend flat (0 -> 0).
    {
        "ID": "KR-0007", "Objective": G2, "Team": G, "Owner": TOM, "Type": "at most",
        "Key Result": "Hold the average discount on closed deals at most 12%",
        "Target": "12%", "Current": "15%", "Owner Health": "on trak",
        "Check-in Date": d("2026-11-11"), "Cadence": "weekly",
        "Comment": "Two large deals needed 25% to close before year end.",
        "Blockers": "Sales has no approval step for discounts above 15%.",
        "Next Steps": "Propose a deal-desk approval for discounts over 15%.",
        NOTES: "Ask Sales ops",
        EARLIER: [
            ("2026-10-07", "11%", "on track"), ("2026-10-14", "12%", "on track"),
            ("2026-10-21", "13%", "at risk"), ("2026-10-28", "14%", "at risk"),
            ("2026-11-04", "16%", "at risk"),
        ],
    },
    # At least, met (99.95% >= 99.9%): on track. Trend flat: met at every check-in.
    {
        "ID": "KR-0008", "Objective": P1, "Team": P, "Owner": LARS, "Type": "at least",
        "Key Result": "Keep API uptime at least 99.9%",
        "Target": Pct(0.999), "Current": Pct(0.9995), "Owner Health": "green",
        "Check-in Date": d("2026-11-13"), "Cadence": "weekly",
        "Comment": "One 12-minute partial outage on 4 Nov (DNS).",
        "Next Steps": "Add a second DNS provider.",
        EARLIER: [
            ("2026-10-02", Pct(1.0)), ("2026-10-09", Pct(0.9999)), ("2026-10-16", Pct(0.9998)),
            ("2026-10-23", Pct(0.9998)), ("2026-10-30", Pct(0.9997)), ("2026-11-06", Pct(0.9995)),
        ],
    },
    # Decrease: (2.4 - 3.2) / (1.5 - 3.2) = 0.4706, on track; overdue (weekly, 6 Nov).
    # Trend up from 2.5 s (0.4118) on 30 Oct.
    {
        "ID": "KR-0009", "Objective": P1, "Team": P, "Owner": ANA, "Type": "decrease",
        "Key Result": "Reduce p95 page load from 3.2 s to 1.5 s",
        "Start": 3.2, "Target": 1.5, "Current": 2.4, "Owner Health": "on track",
        "Check-in Date": d("2026-11-06"), "Cadence": "weekly",
        "Comment": "Image CDN live; bundle splitting in review.",
        "Next Steps": "Merge bundle splitting; measure on the dashboard pages.",
        EARLIER: [
            ("2026-10-02", 3.2), ("2026-10-09", 3.1), ("2026-10-16", 2.9), ("2026-10-23", 2.7),
            ("2026-10-30", 2.5),
        ],
    },
    # Decrease: (6 - 4) / (6 - 1) = 0.4, at risk; monthly cadence; ISO text date.
    # Trend up from 6 (0) on 14 Oct, so a win although at risk.
    {
        "ID": "KR-0010", "Objective": P1, "Team": P, "Owner": KENJI, "Type": "decrease",
        "Key Result": "Cut Sev-1 incidents per month from 6 to 1",
        "Start": 6, "Target": 1, "Current": 4, "Owner Health": "at risk",
        "Check-in Date": "2026-11-14", "Cadence": "monthly",
        "Comment": "Four Sev-1s in October, two of them from the queue backlog.",
        "Blockers": "Queue autoscaling needs budget approval.",
        "Next Steps": "Ship the queue back-pressure fix; write the two post-mortems.",
        EARLIER: [("2026-10-14", 6)],
    },
    # Blank ID; percent complete 60% due 30 Nov: Expected 46/60 = 0.7667, at risk.
    # A row added since the last sync: no History, no Trend.
    {
        "Objective": P1, "Team": P, "Owner": KENJI, "Type": "percent",
        "Key Result": "Migrate all services to the new cluster",
        "Current": Pct(0.60), "Owner Health": "on track",
        "Check-in Date": d("2026-11-13"), "Cadence": "weekly", "Due Date": d("2026-11-30"),
        "Comment": "18 of 30 services moved; the stateful ones are left.",
        "Blockers": "Postgres failover test failed once.",
        "Next Steps": "Re-run the failover test; move the billing service.",
        NOTES: "Hard stop: old cluster contract ends 30 Nov",
    },
    # (18 - 10) / 15 = 0.5333, on track; checked in today. Trend down from 19 (0.6) on 9 Nov.
    {
        "ID": "KR-0012", "Objective": P2, "Team": P, "Owner": ANA, "Type": "increase",
        "Key Result": "Increase deploys per week from 10 to 25",
        "Start": 10, "Target": 25, "Current": 18, "Owner Health": "on track",
        "Check-in Date": d("2026-11-16"), "Cadence": "weekly",
        "Comment": "Trunk-based development adopted by four of six teams.",
        "Next Steps": "Help the mobile and data teams move to trunk-based.",
        EARLIER: [
            ("2026-10-05", 10), ("2026-10-12", 12), ("2026-10-19", 13), ("2026-10-26", 15),
            ("2026-11-02", 17), ("2026-11-09", 19),
        ],
    },
    # Blank Type (decrease): (22 - 21) / 12 = 0.0833, off track; overdue (biweekly, 30 Oct).
    # Trend flat: 21 on 16 Oct too, then on track (0.0833 of 15/91 = 0.1648 expected).
    {
        "ID": "KR-0013", "Objective": P2, "Team": P, "Owner": LARS,
        "Key Result": "Reduce median CI time from 22 min to 10 min",
        "Start": 22, "Target": 10, "Current": 21, "Owner Health": "at risk",
        "Check-in Date": d("2026-10-30"), "Cadence": "bi-weekly",
        "Comment": "Caching helped less than hoped.",
        "Blockers": "Flaky integration tests force full re-runs.",
        "Next Steps": "Quarantine the ten flakiest tests; parallelise the e2e suite.",
        EARLIER: [("2026-10-02", 22, "on track"), ("2026-10-16", 21)],
    },
    # Boolean, done: Health done, so not overdue although the weekly check-in is late.
    # Trend up: not done on 29 Oct.
    {
        "ID": "KR-0014", "Objective": P2, "Team": P, "Owner": ANA, "Type": "boolean",
        "Key Result": "Automate the release checklist",
        "Current": "done", "Owner Health": "on track",
        "Check-in Date": d("2026-11-05"), "Cadence": "weekly",
        "Comment": "The release bot now runs every step; the checklist page is retired.",
        EARLIER: [
            ("2026-10-01", "no"), ("2026-10-08", "no"), ("2026-10-15", "no"), ("2026-10-22", "no"),
            ("2026-10-29", "no"),
        ],
    },
    # Percent complete typed as a bare 45 (= 45%): on track; a 10-day cadence.
    # Trend up from 40 on 30 Oct.
    {
        "ID": "KR-0015", "Objective": P2, "Team": P, "Owner": KENJI, "Type": "percent",
        "Key Result": "Write a runbook for every on-call alert",
        "Current": 45, "Owner Health": "on track",
        "Check-in Date": d("2026-11-09"), "Cadence": "10d",
        "Comment": "27 of 60 alerts have a runbook.",
        "Next Steps": "Delete the alerts nobody has acted on this year.",
        EARLIER: [("2026-10-09", 10), ("2026-10-20", 25), ("2026-10-30", 40)],
    },
    # (75% - 55%) / 25% = 0.8, on track; all numbers typed as percent text.
    # Trend flat: 75% on 6 Nov too.
    {
        "ID": "KR-0016", "Objective": C1, "Team": C, "Owner": FATIMA, "Type": "increase",
        "Key Result": "Raise onboarding completion from 55% to 80%",
        "Start": "55%", "Target": "80%", "Current": "75%", "Owner Health": "on track",
        "Check-in Date": d("2026-11-13"), "Cadence": "weekly",
        "Comment": "The new checklist email doubled step-3 completion.",
        "Next Steps": "Translate the checklist into German and Spanish.",
        EARLIER: [
            ("2026-10-02", "55%"), ("2026-10-09", "58%"), ("2026-10-16", "62%"),
            ("2026-10-23", "66%"), ("2026-10-30", "70%"), ("2026-11-06", "75%"),
        ],
    },
    # (9 - 8) / 5 = 0.2, off track, owner says amber; overdue (weekly, 3 Nov).
    # Trend down from 7.5 days (0.3) on 27 Oct, which was on track (0.2857 expected).
    {
        "ID": "KR-0017", "Objective": C1, "Team": C, "Owner": DIEGO, "Type": "decrease",
        "Key Result": "Cut median time to first value from 9 days to 4 days",
        "Start": 9, "Target": 4, "Current": 8, "Owner Health": "Amber",
        "Check-in Date": d("2026-11-03"), "Cadence": "weekly",
        "Comment": "Guided set-up is built but not yet switched on.",
        "Blockers": "Needs the import API from Platform, now planned for December.",
        "Next Steps": "Switch guided set-up on for new trials without import.",
        EARLIER: [
            ("2026-10-06", 9, "on track"), ("2026-10-13", 9, "on track"),
            ("2026-10-20", 8, "amber"), ("2026-10-27", 7.5, "on track"),
        ],
    },
    # Blank Start (0) and blank Type (increase): 12 of 12, done. History has 4, then 8.
    {
        "ID": "KR-0018", "Objective": C1, "Team": C, "Owner": HANNAH,
        "Key Result": "Publish 12 new help-centre guides",
        "Target": 12, "Current": 12, "Owner Health": "on track",
        "Check-in Date": d("2026-11-10"), "Cadence": "biweekly",
        "Comment": "All twelve live; search traffic to them up 40%.",
        EARLIER: [("2026-10-13", 4), ("2026-10-27", 8)],
    },
    # Mistake: a copied row kept KR-0018, so both rows are errors until it is cleared.
    {
        "ID": "KR-0018", "Objective": C1, "Team": C, "Owner": HANNAH, "Type": "increase",
        "Key Result": "Run 8 onboarding webinars",
        "Start": 0, "Target": 8, "Current": 3, "Owner Health": "on track",
        "Check-in Date": d("2026-11-10"), "Cadence": "biweekly",
        "Comment": "Attendance around 60 per session.",
        NOTES: "copied from the row above",
    },
    # At most, met (1.2% <= 1.5%): on track; monthly cadence. Trend flat (met on 2 Oct).
    {
        "ID": "KR-0020", "Objective": C2, "Team": C, "Owner": FATIMA, "Type": "at most",
        "Key Result": "Keep monthly logo churn at most 1.5%",
        "Target": "1.5%", "Current": Pct(0.012), "Owner Health": "on track",
        "Check-in Date": d("2026-11-02"), "Cadence": "monthly",
        "Comment": "October churn 1.2%; two of the five were acquisitions.",
        EARLIER: [("2026-10-02", Pct(0.014))],
    },
    # No check-in yet: Next Check-in is 8 Oct, so overdue; progress at Start, off track.
    {
        "ID": "KR-0021", "Objective": C2, "Team": C, "Owner": DIEGO, "Type": "increase",
        "Key Result": "Raise NPS from 32 to 45",
        "Start": 32, "Target": 45,
    },
    # Mistake: blank Target is an error (every sync so far, so nothing in History).
    {
        "ID": "KR-0022", "Objective": C2, "Team": C, "Owner": HANNAH, "Type": "increase",
        "Key Result": "Grow net revenue retention from 104% to 110%",
        "Start": Pct(1.04), "Current": Pct(1.06), "Owner Health": "on track",
        "Check-in Date": d("2026-11-12"), "Cadence": "weekly",
        "Comment": "Target to be confirmed with Finance.",
    },
    # Mistake: a check-in dated next Friday (after today) is an error.
    {
        "ID": "KR-0023", "Objective": C2, "Team": C, "Owner": DIEGO, "Type": "increase",
        "Key Result": "Hold business reviews with our top 20 accounts",
        "Start": 0, "Target": 20, "Current": 9, "Owner Health": "on track",
        "Check-in Date": d("2026-11-20"), "Cadence": 14,
        "Comment": "Nine done; eleven booked for next week.",
        "Next Steps": "Prepare the renewal talking points.",
        EARLIER: [("2026-10-16", 2), ("2026-10-30", 5)],
    },
    # Mistake: two addresses in Owner Email; blank ID; (1 - 0) / 2 = 0.5.
    {
        "Objective": X1, "Team": G, "Owner": PRIYA, "Type": "increase",
        "Owner Email": "priya.natarajan@example.com, growth-lead@example.com",
        "Key Result": "Hire 2 growth engineers",
        "Start": 0, "Target": 2, "Current": 1, "Owner Health": "on track",
        "Check-in Date": "2026-11-09", "Cadence": "weekly",
        "Comment": "One offer accepted, starts 7 December.",
        "Next Steps": "Final interviews for the second role.",
    },
    # Boolean with a tick: done. Trend up: not done on 13 Oct.
    {
        "ID": "KR-0025", "Objective": X1, "Team": P, "Owner": LARS, "Type": "boolean",
        "Key Result": "Every new engineer ships to production in their first week",
        "Current": "✓", "Owner Health": "on track",
        "Check-in Date": d("2026-11-13"), "Cadence": "monthly",
        "Comment": "All three October starters shipped by day four.",
        EARLIER: [("2026-10-13", "no")],
    },
    # Blank Team: (no team). (24 - 20) / 15 = 0.2667, at risk; overdue (biweekly, 28 Oct).
    # Trend down from 25 (0.3333) on 14 Oct.
    {
        "ID": "KR-0026", "Objective": X1, "Owner": HANNAH, "Type": "increase",
        "Key Result": "Raise employee NPS from 20 to 35",
        "Start": 20, "Target": 35, "Current": 24, "Owner Health": "at risk",
        "Check-in Date": "2026-10-28", "Cadence": "biweekly",
        "Comment": "Pulse survey: workload is the top concern.",
        "Blockers": "Two open roles still unfilled.",
        "Next Steps": "Share the survey results at the all-hands.",
        EARLIER: [("2026-10-14", 25)],
    },
]  # fmt: skip

README_LINES = [
    "How to use the Check-ins sheet",
    "",
    "One row per Key Result. Fill in the white columns; okrsync fills the grey ones to the"
    " right (Progress, Health, Next Check-in, Sync Notes...) on every sync.",
    "At each check-in: update Current, set Check-in Date to today, pick your Owner Health,"
    " and write a line each in Comment, Blockers and Next Steps.",
    "Type: increase, decrease, at least, at most, boolean or percent. Leave it blank and"
    " okrsync picks increase or decrease from Start and Target.",
    "Numbers may be typed as 1,200, $45,000 or 75%. Dates as dates, or as 2026-11-20.",
    "Cadence: weekly, biweekly, monthly or a number of days (10d). Blank means weekly.",
    "Leave ID blank on a new row: okrsync gives it the next free KR number. Never reuse or"
    " copy an ID.",
    "Sync Notes tells you what okrsync could not read on your row and how to fix it.",
    "History is okrsync's log: one row per check-in, added by each sync. Leave it as it is;"
    " Trend and the 'consider revisiting' warning are worked out from it.",
    "Questions: lead@example.com",
]

WIDTHS = {
    "ID": 10, "Objective": 34, "Key Result": 52, "Owner": 17, "Owner Email": 30,
    "Team": 17, "Type": 10, "Start": 10, "Target": 10, "Current": 10,
    "Owner Health": 13, NOTES: 24, "Check-in Date": 14, "Comment": 48, "Blockers": 40,
    "Next Steps": 44, "Cadence": 11, "Due Date": 12,
}  # fmt: skip


HISTORY_WIDTHS = {
    "ID": 10, "Check-in Date": 14, "Current": 10, "Progress": 10, "Expected": 10,
    "Health": 11, "Owner Health": 13, "Synced At": 22,
}  # fmt: skip


def _cell_value(column: str, kr: dict[str, Any]) -> Any:
    if column in ("Owner", "Owner Email") and "Owner" in kr:
        name, email = kr["Owner"]
        if column == "Owner":
            return name
        return kr.get("Owner Email", email)
    return kr.get(column)


def _percent_format(value: float) -> str:
    """``0%``, ``0.0%`` or ``0.00%``: as many decimals as the value needs to show exactly."""
    for places in range(3):
        if round(value * 100, places) == round(value * 100, 6):
            return "0." + "0" * places + "%" if places else "0%"
    return "0.00%"


def history_sheet_rows() -> list[list[Cell]]:
    """The History worksheet's rows: every KR's earlier check-ins, as okrsync recorded them.

    The check-ins are replayed through okrsync itself: each one is a row of the KR as it
    stood that day (that day's Current and Owner Health), read and validated like a sheet
    row, computed with "today" set to its check-in day (as an evening sync that day would
    have), and laid out as okrsync appends History. So Progress, Expected and Health are
    exactly what okrsync computed then, and re-running the script after a rule changes
    keeps History consistent with the rules.

    :raises ValueError: an earlier check-in in the table is not a valid row.
    """
    config = load_config(CONFIG)
    checkins = []
    for kr in KRS:
        for when, current, *health in kr.get(EARLIER, []):
            then = kr | {"Current": current, "Check-in Date": d(when)}
            if health:
                then["Owner Health"] = health[0]
            checkins.append(then)
    checkins.sort(key=lambda kr: kr["Check-in Date"])  # stable: sheet order within a day
    # One read and one validation of all of them (validating is the slow part): each row
    # gets an ID of its own so that a KR's check-ins are not duplicates of each other.
    cells = [[_sheet_cell(_cell_value(c, kr)) for c in HEADER] for kr in checkins]
    for i, row in enumerate(cells):
        row[HEADER.index("ID")] = f"check-in {i}"
    frame = read_table(SheetTable(SHEET_TITLE, list(HEADER), cells), config)
    checked = validate(frame, config, checkins[-1]["Check-in Date"])
    if checked.error.any():
        raise ValueError(f"earlier check-ins have errors: {checked.issues}")
    kr = checked.kr
    computed = pd.concat(
        compute(Checked(kr.loc[rows], checked.error[rows], checked.notes[rows]), config, day)
        for day, rows in kr.groupby(Col.CHECKIN_DATE, sort=False).groups.items()
    )
    synced = kr.join(computed)
    synced["error"] = checked.error
    new = Lookback(kr, parse_history(None)).new_checkins(synced, "")
    if len(new) != len(checkins):  # every row is error-free and has a check-in
        raise ValueError(f"{len(checkins) - len(new)} earlier check-ins were not recorded")
    new[Col.ID.value] = [c["ID"] for c in checkins]
    new[SYNCED_AT] = [c["Check-in Date"].isoformat() + SYNCED_AT_TIME for c in checkins]
    return history_rows(new, None)[1]


def _sheet_cell(value: Any) -> Cell:
    """A table value as the xlsx backend reads the cell it becomes."""
    if isinstance(value, Pct):
        return Percent(value)
    return value


def build_workbook() -> Workbook:
    """Build the example workbook in memory."""
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = SHEET_TITLE
    ws.append(HEADER)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    for kr in KRS:
        row = []
        for column in HEADER:
            value = _cell_value(column, kr)
            row.append(float(value) if isinstance(value, Pct) else value)
        ws.append(row)
        r = ws.max_row
        for c, column in enumerate(HEADER, start=1):
            value = _cell_value(column, kr)
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Pct):
                cell.number_format = _percent_format(value)
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif column in ("Comment", "Blockers", "Next Steps", "Key Result"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for c, column in enumerate(HEADER, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = WIDTHS[column]
    ws.freeze_panes = "A2"
    # A dropdown as a team would set it up; typing something else is still allowed.
    type_col = ws.cell(row=1, column=HEADER.index("Type") + 1).column_letter
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(t.value for t in KrType) + '"',
        allow_blank=True,
        showErrorMessage=False,
    )
    dv.add(f"{type_col}2:{type_col}500")
    ws.add_data_validation(dv)

    # Laid out as okrsync appends (plain numbers, date cells), so the demo's rows match.
    history = wb.create_sheet(HISTORY_TITLE)
    history.append(list(HISTORY_HEADER))
    for cell in history[1]:
        cell.font = bold
        cell.fill = fill
    for row in history_sheet_rows():
        history.append(row)
        for cell in history[history.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for c, header in enumerate(HISTORY_HEADER, start=1):
        letter = history.cell(row=1, column=c).column_letter
        history.column_dimensions[letter].width = HISTORY_WIDTHS[header]
    history.freeze_panes = "A2"

    readme = wb.create_sheet(README_TITLE)
    for line in README_LINES:
        readme.append([line])
    readme["A1"].font = Font(bold=True, size=14)
    readme.column_dimensions["A"].width = 110

    wb.properties.creator = "okrsync example"
    wb.properties.created = FIXED_TIME
    return wb


def _stable_bytes(wb: Workbook) -> bytes:
    """Save ``wb`` with fixed timestamps so the bytes depend only on the content."""
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the time of saving.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def write_example(path: Path = OUTPUT) -> Path:
    """Write the example workbook to ``path`` (default: the package's data folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_stable_bytes(build_workbook()))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    print(f"wrote {write_example(args.output)}")


if __name__ == "__main__":
    main()
