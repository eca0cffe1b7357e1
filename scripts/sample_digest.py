"""Render the digest and a reminder of a realistic example sheet to HTML files.

    python scripts/sample_digest.py OUT_DIR

Writes OUT_DIR/digest.html, digest.txt, reminder.html and reminder.txt (no email is
sent, no state is kept). ``scripts/screenshot_digest.sh`` turns the HTML into PNGs for
docs/. The example table is the one the email tests use (tests/notify_helpers.py).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from notify_helpers import TODAY, realistic_table  # noqa: E402

from okrsync.notes import Renderer, digest_notes, kr_views, pick_question, reminder_notes  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table, issues = realistic_table()
    renderer = Renderer()
    notes = digest_notes(
        table,
        issues,
        scope="All teams",
        today=TODAY,
        since=TODAY - dt.timedelta(days=7),
        previous={"krs": 12, "on track": 5, "at risk": 3, "off track": 2, "done": 1, "overdue": 4},
        stalled={"KR-0011": 3},
        location="https://docs.google.com/spreadsheets/d/1AbCdEf/edit",
        question=pick_question(TODAY),
    )
    text, html = renderer.digest(notes)
    (out / "digest.txt").write_text(text, encoding="utf-8")
    (out / "digest.html").write_text(html, encoding="utf-8")
    mine = table[(table["Owner"] == "Priya Patel") & (table["Overdue"] == "yes")]
    reminder = reminder_notes(
        kr_views(mine), today=TODAY, location="/srv/okrs/okrs.xlsx", last_call=["KR-0006"]
    )
    text, html = renderer.reminder(reminder)
    (out / "reminder.txt").write_text(text, encoding="utf-8")
    (out / "reminder.html").write_text(html, encoding="utf-8")
    print(out / "digest.html")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/sample"))
