"""The Google Sheets backend: gspread and google-auth, a constant number of API calls per sync.

One sync costs the same few requests whatever the row count (issue 4):

* :meth:`GSheetsBackend.read` -- the spreadsheet's metadata (sheet titles, ids, grid sizes)
  and ONE ``values.batchGet`` of the check-in worksheet and the extra worksheets that exist,
  as unformatted values with dates as serial numbers;
* :meth:`GSheetsBackend.write` -- nothing at all when there are no changes; otherwise one
  small ``values.batchGet`` that re-reads the header row and the ID column (see
  :func:`relocate` for why), then ONE ``spreadsheets.batchUpdate`` that grows the grid when
  needed and writes only the changed cells;
* :meth:`GSheetsBackend.append_rows` -- ONE ``spreadsheets.batchUpdate`` (``addSheet`` with
  the header when the worksheet is missing, then ``appendCells``).

Cells come back typed as Google's ``UNFORMATTED_VALUE`` gives them: ``str``, ``int``,
``float``, ``bool``, ``None`` for blanks. **Dates come back as serial numbers** (days since
1899-12-30; ``okrsync.parse.parse_dates`` reads them in date columns). **Known limitation:**
a number formatted as a percentage comes back as the plain number (``150%`` as ``1.5``),
not as :class:`~okrsync.backends.base.Percent`, because learning cell formats needs grid
data, which costs a larger request; text typed as ``150%`` is still read as 150%.

Writes never produce formulas: text goes out as ``userEnteredValue.stringValue``. Progress
and Expected get a percent number format, Next Check-in a date serial with a date format,
Days Since Check-in a whole-number format.

``[sheet] api_endpoint`` sends every Sheets request to another base URL (the local emulator
in ``scripts/sheets_emulator.py``, or a gateway); only :class:`SheetsHTTPClient` knows.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import gspread
import requests
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import service_account
from gspread.exceptions import APIError, NoValidUrlKeyFound
from gspread.http_client import FileType, HTTPClient, ParamsType
from gspread.utils import extract_id_from_url

from okrsync.backends.base import (
    Cell,
    CellChange,
    Percent,
    SheetBackend,
    SheetTable,
    serial_number,
)
from okrsync.columns import (
    DATE_COLUMNS,
    INTEGER_COLUMNS,
    PERCENT_COLUMNS,
    Col,
    col_letter,
    normalize_header,
)
from okrsync.config import SheetConfig
from okrsync.errors import ConfigError, SheetError, SheetLayoutError

if TYPE_CHECKING:
    from okrsync.setup import SetupPlan

__all__ = [
    "GSheetsBackend",
    "RetryPolicy",
    "SheetsHTTPClient",
    "load_credentials",
    "relocate",
    "spreadsheet_key",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

GOOGLE_SHEETS_URL = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
#: 408 and 429 are "later"; 5xx are Google's side. Everything else is final.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
METADATA_FIELDS = (
    "spreadsheetId,spreadsheetUrl,properties.title,"
    "sheets.properties(sheetId,title,index,gridProperties(rowCount,columnCount))"
)
PERCENT_FORMAT = {"type": "PERCENT", "pattern": "0%"}
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATETIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
INTEGER_FORMAT = {"type": "NUMBER", "pattern": "0"}
VALUE_ONLY = "userEnteredValue"
VALUE_AND_FORMAT = "userEnteredValue,userEnteredFormat.numberFormat"
NEW_SHEET_ROWS = 1000
NEW_SHEET_COLS = 26


# --- retries and routing ----------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying when Google says "later" (429, 5xx, a dropped connection).

    Waits grow as ``base * 2**attempt`` capped at ``cap`` seconds, with full jitter (a
    random fraction of that) so that many clients do not come back at once; a
    ``Retry-After`` header is the least that is waited. When the next wait would take the
    total past ``budget`` seconds, the request fails with one :class:`SheetError`.

    :param sleep: how to wait (tests pass a recorder to check the waits without waiting).
    :param jitter: a random number in [0, 1).
    """

    budget: float = 60.0
    base: float = 1.0
    cap: float = 16.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        backoff = min(self.cap, self.base * 2**attempt) * self.jitter()
        return max(backoff, retry_after or 0.0)


class RetriesExhausted(Exception):
    """Google kept saying "later" (or did not answer) for longer than the retry budget.

    :param reason: ``"HTTP 503"``, or the connection error's class name.
    :param reached: whether Google answered at all.
    """

    def __init__(self, reason: str, attempts: int, waited: float, *, reached: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.waited = waited
        self.reached = reached


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client, routed to ``endpoint`` and retrying what Google asks to retry.

    ``endpoint`` replaces ``https://sheets.googleapis.com`` in every request (gspread builds
    its URLs from that constant), so an emulator or a gateway sees exactly the requests
    Google would. The OAuth token request is google-auth's and goes to the key's
    ``token_uri``.
    """

    endpoint: str | None = None
    policy: RetryPolicy = RetryPolicy()

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        url = endpoint
        if self.endpoint and url.startswith(GOOGLE_SHEETS_URL):
            url = self.endpoint + url[len(GOOGLE_SHEETS_URL) :]
        waited = 0.0
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                return super().request(
                    method, url, params=params, data=data, json=json, files=files, headers=headers
                )
            except APIError as e:
                if e.code not in RETRY_STATUSES:
                    raise
                reason, reached = f"HTTP {e.code}", True
                retry_after = _retry_after(e.response)
            except (requests.ConnectionError, requests.Timeout, TransportError) as e:
                reason, reached = type(e).__name__, False
            delay = self.policy.delay(attempt, retry_after)
            if waited + delay > self.policy.budget:
                raise RetriesExhausted(reason, attempt + 1, waited, reached=reached)
            log.info("Google Sheets answered %s; retrying in %.1f s", reason, delay)
            self.policy.sleep(delay)
            waited += delay
            attempt += 1


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (a number, or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# --- configuration --------------------------------------------------------------------------


def spreadsheet_key(value: str) -> str:
    """The spreadsheet key from ``[sheet] spreadsheet``: a key, or the sheet's URL.

    :raises ConfigError: neither a key nor a Google Sheets URL.
    """
    text = value.strip()
    if "/" in text:
        try:
            return extract_id_from_url(text)
        except NoValidUrlKeyFound:
            raise ConfigError(
                f"[sheet] spreadsheet {text!r} is not a Google Sheets URL; copy the URL of the "
                "sheet from the browser's address bar, or give its key."
            ) from None
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ConfigError(
            f"[sheet] spreadsheet {text!r} is not a spreadsheet key (letters, digits, - and _); "
            "give the key or the URL of the sheet."
        )
    return text


_KNOWN_CREDENTIAL_TYPES = ("authorized_user", "external_account", "impersonated_service_account")


def load_credentials(sheet: SheetConfig) -> tuple[Credentials, str | None]:
    """The credentials to call Google with, and the service account's email (or ``None``).

    From ``[sheet] credentials`` or ``GOOGLE_APPLICATION_CREDENTIALS``; with neither and an
    ``api_endpoint``, anonymous credentials (an emulator or a gateway that adds its own).
    Messages never quote the file's content: it holds a private key.

    :raises ConfigError: no credentials configured, or the file is not a usable
        service-account key.
    """
    configured = sheet.credentials or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not configured:
        if sheet.api_endpoint:
            return AnonymousCredentials(), None
        raise ConfigError(
            "Google Sheets needs a service-account key: set [sheet] credentials (or "
            "GOOGLE_APPLICATION_CREDENTIALS) to its JSON file, and share the sheet with the "
            "account's email as an editor."
        )
    path = Path(configured).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Credentials file {path} not found; check [sheet] credentials or "
            "GOOGLE_APPLICATION_CREDENTIALS."
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"Credentials file {path} cannot be read ({type(e).__name__}); check that it is "
            "the service account's JSON key and that okrsync may read it."
        ) from None
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"Credentials file {path} is not JSON; download the service account's key again "
            "as JSON from the Google Cloud console."
        ) from None
    kind = info.get("type") if isinstance(info, dict) else None
    if kind != "service_account":
        what = f'a "{kind}" credential' if kind in _KNOWN_CREDENTIAL_TYPES else "not a key"
        raise ConfigError(
            f"Credentials file {path} is {what}; okrsync needs a service account's JSON key "
            '(with "type": "service_account").'
        )
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise ConfigError(
            f"Credentials file {path} lacks {', '.join(missing)}; download the service "
            "account's key again."
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except Exception:  # any parse failure: its message may quote the key, so none is shown
        raise ConfigError(
            f"Credentials file {path} holds a private key that cannot be read; download the "
            "service account's key again."
        ) from None
    return creds, str(info["client_email"])


# --- the backend ----------------------------------------------------------------------------


class GSheetsBackend(SheetBackend):
    """A check-in worksheet in a Google spreadsheet.

    :param sheet: ``[sheet]`` of the config (``spreadsheet``, ``credentials``,
        ``api_endpoint``, ``worksheet``).
    :param retry: how long to retry 429/5xx; default :attr:`retry` (a class attribute, so a
        test suite can shorten it for every backend it opens).
    :param timeout: seconds to wait for one answer.
    :raises ConfigError: the spreadsheet or the credentials are not usable.
    """

    retry: RetryPolicy = RetryPolicy()

    def __init__(
        self, sheet: SheetConfig, *, retry: RetryPolicy | None = None, timeout: float = 60.0
    ) -> None:
        if not sheet.spreadsheet:
            raise ConfigError("Set [sheet] spreadsheet to the key or URL of the Google sheet.")
        self.worksheet = sheet.worksheet
        self.key = spreadsheet_key(sheet.spreadsheet)
        self.credentials_path = sheet.credentials or os.environ.get(
            "GOOGLE_APPLICATION_CREDENTIALS"
        )
        self.credentials, self.account = load_credentials(sheet)
        self.client = gspread.Client(self.credentials, http_client=SheetsHTTPClient)
        http = self.client.http_client
        assert isinstance(http, SheetsHTTPClient)
        http.endpoint = sheet.api_endpoint.rstrip("/") if sheet.api_endpoint else None
        http.policy = retry or self.retry
        http.set_timeout(timeout)
        self.http = http
        self._meta: dict[str, Any] | None = None
        self._tables: dict[str, SheetTable] = {}

    # --- the interface ------------------------------------------------------------------

    def location(self) -> str:
        if self._meta and self._meta.get("spreadsheetUrl"):
            return str(self._meta["spreadsheetUrl"])
        return f"https://docs.google.com/spreadsheets/d/{self.key}/edit"

    def close(self) -> None:
        self.http.session.close()

    def read(self, extra: Sequence[str] = ()) -> dict[str, SheetTable | None]:
        """Read the check-in worksheet and the ``extra`` ones in two requests.

        Dates come back as serial numbers, percentages as plain numbers (see the module
        docstring).
        """
        meta = self._fetch_metadata("reading the sheet")
        titles = [s["properties"]["title"] for s in meta.get("sheets", [])]
        self._properties(self.worksheet)  # raises SheetLayoutError, listing the titles
        wanted = [self.worksheet] + [
            t for t in dict.fromkeys(extra) if t in titles and t != self.worksheet
        ]
        params = _values_params("ROWS")
        response = self._call(
            "reading the sheet",
            lambda h: h.values_batch_get(self.key, [_a1(t) for t in wanted], params=params),
        )
        ranges = response.get("valueRanges", [])
        self._tables = {
            title: _table(title, vr.get("values", []))
            for title, vr in zip(wanted, ranges, strict=False)
        }
        out: dict[str, SheetTable | None] = {self.worksheet: self._tables[self.worksheet]}
        for title in extra:
            out[title] = self._tables.get(title)
        return out

    def write(self, changes: Sequence[CellChange]) -> None:
        """Write ``changes`` in one ``spreadsheets.batchUpdate``, each on its KR's row.

        Rows an owner inserted, deleted or sorted since :meth:`read` are followed through
        the ID column (see :func:`relocate`); a row that cannot be found for certain is left
        for the next sync, which reads afresh. The batch applies whole or not at all.

        :raises SheetError: the write was refused, or the columns moved since the read.
        """
        if not changes:
            return
        table = self._tables.get(self.worksheet)
        if table is None or self._meta is None:
            table = self.read()[self.worksheet]
            assert table is not None
        props = self._properties(self.worksheet)
        placed = self._place(table, props, changes)
        requests_ = _write_requests(props, placed)
        if not requests_:
            return
        self._call("writing the sheet", lambda h: h.batch_update(self.key, {"requests": requests_}))
        self._grew(props, max(col for _, col, _ in placed) + 1)
        self._tables.pop(self.worksheet, None)  # the cached rows are stale now

    def append_rows(
        self, worksheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
    ) -> None:
        """Append ``rows`` below the last row of ``worksheet`` in one request.

        A missing worksheet is added with ``header`` (and its first row frozen) in the same
        batch. When :meth:`read` saw the worksheet's header, values go under their own
        headers, and headers it lacks are added at its right.
        """
        if not rows:
            return
        if self._meta is None:
            self._fetch_metadata("appending to the sheet")
        props = self._find(worksheet)
        batch: list[dict[str, Any]] = []
        known = self._tables.get(worksheet)
        if props is None:
            sheet_id = self._new_sheet_id()
            width = max(len(header), *(len(r) for r in rows))
            props = {
                "sheetId": sheet_id,
                "title": worksheet,
                "gridProperties": {
                    "rowCount": max(NEW_SHEET_ROWS, len(rows) + 1),
                    "columnCount": max(NEW_SHEET_COLS, width),
                    "frozenRowCount": 1,
                },
            }
            batch.append({"addSheet": {"properties": props}})
            body = [list(header), *(list(r) for r in rows)]
            final_header = list(header)
        else:
            sheet_id = props["sheetId"]
            body, final_header, new_headers = _arrange(known, header, rows)
            width = max(len(final_header), *(len(r) for r in body))
            grid_cols = props.get("gridProperties", {}).get("columnCount", 0)
            if width > grid_cols:
                batch.append(_append_columns(sheet_id, width - grid_cols))
            for col, text in new_headers:
                batch.append(
                    _update_cells(sheet_id, 0, col, [[_cell_data(text, None)]], VALUE_ONLY)
                )
        batch.append(
            {
                "appendCells": {
                    "sheetId": sheet_id,
                    "rows": [{"values": [_append_cell(v) for v in row]} for row in body],
                    "fields": VALUE_AND_FORMAT,
                }
            }
        )
        self._call(
            f'appending to worksheet "{worksheet}"',
            lambda h: h.batch_update(self.key, {"requests": batch}),
        )
        if self._find(worksheet) is None:
            assert self._meta is not None
            self._meta.setdefault("sheets", []).append({"properties": props})
        self._grew(props, width)
        self._tables[worksheet] = SheetTable(worksheet, final_header, [])

    def setup(self, plan: SetupPlan, *, dry_run: bool = False) -> list[str]:
        """Prepare the worksheet for owners: three small reads, then ONE batchUpdate (none
        when nothing is missing). See :mod:`okrsync.backends.gsheets_setup`."""
        from okrsync.backends.gsheets_setup import (
            COLUMN_FIELDS,
            DEFAULT_PIXELS,
            HEADER_FIELDS,
            SETUP_FIELDS,
            setup_requests,
        )

        meta = self._fetch_metadata("reading the sheet", fields=SETUP_FIELDS)
        props = self._properties(self.worksheet)
        sheet = next(s for s in meta["sheets"] if s["properties"] is props)
        title = _a1(self.worksheet)
        # The whole sheet, thinly: the header and first rows as before, and where the data
        # ends, so new columns never land on an owner's column that has no header.
        params = {"ranges": title, "fields": HEADER_FIELDS, "prettyPrint": "false"}
        got = self._call(
            "reading the sheet's header row",
            lambda h: h.fetch_sheet_metadata(self.key, params=params),
        )
        data = _grid_data(got)
        every = (data[0].get("rowData") or []) if data else []
        top = every[:2]
        header = top[0].get("values", []) if top else []
        first = top[1].get("values", []) if len(top) > 1 else []
        metadata = data[0].get("columnMetadata", []) if data else []
        widths = [m.get("pixelSize", DEFAULT_PIXELS) for m in metadata]
        used = max(
            (
                i
                for row in every
                for i, cell in enumerate(row.get("values", []), start=1)
                if str(cell.get("formattedValue", "")).strip()
            ),
            default=0,
        )
        placement = plan.place([c.get("formattedValue", "") for c in header], used)
        rows = props.get("gridProperties", {}).get("rowCount", 0)
        added = {col for col, _ in placement.added}
        formatted = sorted(
            {
                placement.positions[spec.column]
                for spec in plan.columns
                if spec.validation or spec.number_format
            }
            - added
        )
        cells: dict[int, list[dict[str, Any]]] = {
            col: [first[col - 1] if col - 1 < len(first) else {}] for col in formatted
        }
        if formatted and rows > 2:
            ranges = [f"{title}!{col_letter(c)}3:{col_letter(c)}{rows}" for c in formatted]
            column_params = {"ranges": ranges, "fields": COLUMN_FIELDS, "prettyPrint": "false"}
            got = self._call(
                "reading the sheet's formats",
                lambda h: h.fetch_sheet_metadata(self.key, params=column_params),
            )
            for col, block in zip(formatted, _grid_data(got), strict=False):
                cells[col] += [(row.get("values") or [{}])[0] for row in block.get("rowData", [])]
        batch, changes = setup_requests(plan, placement, sheet, header, widths, cells)
        if batch and not dry_run:
            self._call(
                "setting up the sheet", lambda h: h.batch_update(self.key, {"requests": batch})
            )
            self._grew(props, max(placement.positions.values()))
            self._tables.clear()  # new headers: the rows read before are stale
        return changes

    # --- writing: where each change goes ------------------------------------------------

    def _place(
        self, table: SheetTable, props: Mapping[str, Any], changes: Sequence[CellChange]
    ) -> list[tuple[int, int, CellChange]]:
        """``(row index, column index, change)`` (0-based) where each change goes now."""
        id_col = _id_column(table, changes)
        body = [c for c in changes if c.row > 1]
        if id_col is None or not body:
            # Nothing to key rows by (or only header cells): the rows as read.
            return [(c.row - 1, c.col - 1, c) for c in changes]
        before_ids = _column_texts(table, id_col)
        filled = {c.row for c in body if c.column == Col.ID}
        targets: dict[int, str | None] = {}
        moved: list[CellChange] = []
        for c in body:
            if c.row in filled:
                targets[c.row] = None
                moved.append(c)
                continue
            here = before_ids[c.row - 1] if c.row - 1 < len(before_ids) else ""
            row = c.row
            if c.key and here and here != c.key.strip():
                # Planned against another read: find the KR by its ID in this one.
                hits = [i + 1 for i, v in enumerate(before_ids) if v == c.key.strip() and i]
                if len(hits) != 1:
                    log.warning("KR %s is not on the sheet as read; its cells are skipped", c.key)
                    continue
                row = hits[0]
            targets[row] = (before_ids[row - 1] if row - 1 < len(before_ids) else "") or None
            moved.append(CellChange(row, c.col, c.column, c.value, c.old, c.key))
        print_col = (
            _fingerprint_column(table, id_col, {c.col for c in changes})
            if any(v is None for v in targets.values())
            else None
        )
        before = Snapshot(before_ids, _column_texts(table, print_col) if print_col else None)
        header_now, after = self._reread(props, id_col, print_col)
        _check_columns(self.worksheet, table.header, header_now, changes, id_col)
        where = relocate(targets, before, after)
        placed = [(c.row - 1, c.col - 1, c) for c in changes if c.row == 1]
        lost = set()
        for c in moved:
            if c.row in where:
                placed.append((where[c.row] - 1, c.col - 1, c))
            else:
                lost.add(c.row)
        if lost:
            log.warning(
                "%d row(s) moved while okrsync was syncing and could not be found for certain; "
                "their cells will be written on the next sync",
                len(lost),
            )
        return placed

    def _reread(
        self, props: Mapping[str, Any], id_col: int, print_col: int | None
    ) -> tuple[list[str], Snapshot]:
        """The header row and the ID (and fingerprint) column as they are now: one request."""
        grid_cols = props.get("gridProperties", {}).get("columnCount", 0)
        title = _a1(self.worksheet)
        ranges = [f"{title}!1:1"]
        columns = [c for c in (id_col, print_col) if c is not None and c <= grid_cols]
        ranges += [f"{title}!{col_letter(c)}:{col_letter(c)}" for c in columns]
        params = _values_params("COLUMNS")
        response = self._call(
            "re-reading the ID column",
            lambda h: h.values_batch_get(self.key, ranges, params=params),
        )
        got = [vr.get("values", []) for vr in response.get("valueRanges", [])]
        header = [_header_text(col[0]) if col else "" for col in (got[0] if got else [])]
        found = {
            c: ([_id_text(v) for v in vals[0]] if vals else [])
            for c, vals in zip(columns, got[1:], strict=False)
        }
        ids = found.get(id_col, [])  # a column past the grid has nothing in it yet
        prints = found.get(print_col, []) if print_col is not None else None
        return header, Snapshot(ids, prints)

    # --- plumbing ------------------------------------------------------------------------

    def _fetch_metadata(self, what: str, fields: str = METADATA_FIELDS) -> dict[str, Any]:
        meta = self._call(
            what,
            lambda h: h.fetch_sheet_metadata(self.key, params={"fields": fields}),
        )
        self._meta = dict(meta)
        return self._meta

    def _find(self, title: str) -> dict[str, Any] | None:
        for sheet in (self._meta or {}).get("sheets", []):
            if sheet["properties"]["title"] == title:
                return sheet["properties"]
        return None

    def _properties(self, title: str) -> dict[str, Any]:
        props = self._find(title)
        if props is None:
            meta = self._meta or {}
            titles = [s["properties"]["title"] for s in meta.get("sheets", [])]
            name = meta.get("properties", {}).get("title", self.key)
            listed = ", ".join(f'"{t}"' for t in titles) or "no worksheets"
            raise SheetLayoutError(
                f'Spreadsheet "{name}" has no worksheet "{title}" (it has {listed}); set '
                "[sheet] worksheet to one of them."
            )
        return props

    def _new_sheet_id(self) -> int:
        taken = {s["properties"]["sheetId"] for s in (self._meta or {}).get("sheets", [])}
        while True:
            candidate = random.randrange(1, 2**31 - 1)  # noqa: S311 - an id, not a secret
            if candidate not in taken:
                return candidate

    def _grew(self, props: dict[str, Any], width: int) -> None:
        grid = props.setdefault("gridProperties", {})
        grid["columnCount"] = max(grid.get("columnCount", 0), width)

    def _call(self, what: str, fn: Callable[[SheetsHTTPClient], T]) -> T:
        """Run one API call, turning every failure into one actionable sentence."""
        try:
            return fn(self.http)
        except RetriesExhausted as e:
            tries = f"{e.attempts} tries over {e.waited:.0f} s"
            if not e.reached:
                where = self.http.endpoint or GOOGLE_SHEETS_URL
                raise SheetError(
                    f"Could not reach Google Sheets at {where} while {what} ({e.reason}, {tries}); "
                    "check the network connection and [sheet] api_endpoint."
                ) from None
            raise SheetError(
                f"Google Sheets kept answering {e.reason} while {what} ({tries}); try again later."
            ) from None
        except APIError as e:
            raise self._api_error(e, what) from e
        except RefreshError:
            raise SheetError(
                f"Google refused the service account's key while {what}; check that the key in "
                f"{self.credentials_path} is still active in the Google Cloud console."
            ) from None

    def _api_error(self, e: APIError, what: str) -> SheetError:
        message = str(e.error.get("message", "")).strip()
        if e.code == 404:
            return SheetError(
                f"Spreadsheet {self.key} not found; check [sheet] spreadsheet (the sheet's key "
                "or URL)."
            )
        if e.code == 403:
            if "disabled" in message or "has not been used" in message:
                return SheetError(
                    "The Google Sheets API is not enabled for the service account's project; "
                    f"enable it in the Google Cloud console ({message})."
                )
            if self.account is None:
                return SheetError(
                    f"Google Sheets refused anonymous access to spreadsheet {self.key}; set "
                    "[sheet] credentials to a service account's key and share the sheet with "
                    "that account as an editor."
                )
            return SheetError(
                f"Google Sheets refused access to spreadsheet {self.key}; share the sheet with "
                f"{self.account} as an editor (the Share button) and run again."
            )
        if e.code == 401:
            return SheetError(
                f"Google Sheets did not accept okrsync's credentials while {what} ({message}); "
                "check the service-account key."
            )
        if e.code == 400:
            return SheetError(f"Google Sheets refused {what}: {message}")
        return SheetError(
            f"Google Sheets failed while {what} (HTTP {e.code}: {message}); try again later."
        )


# --- where rows went -------------------------------------------------------------------------


class Snapshot:
    """The ID column (and a fingerprint column) of the check-in worksheet at one moment.

    ``ids[i]`` is the ID text in sheet row ``i + 1`` (``ids[0]`` is the header); ``""`` is
    blank. ``prints`` is another column's text in the same rows, used to recognise rows
    whose ID is still blank. Lookups are indexed once, so relocating every row of a large
    sheet stays linear.
    """

    def __init__(self, ids: list[str], prints: list[str] | None = None) -> None:
        self.ids = ids
        self.prints = prints
        self.size = max(len(ids), len(prints or ()))
        self._rows_of_id: dict[str, list[int]] = {}
        for i, value in enumerate(ids):
            self._rows_of_id.setdefault(value, []).append(i)
        self._rows_of_key: dict[tuple[str, str], list[int]] = {}
        for i in range(self.size):
            self._rows_of_key.setdefault(self.key(i), []).append(i)

    def id(self, i: int) -> str:
        return self.ids[i] if i < len(self.ids) else ""

    def key(self, i: int) -> tuple[str, str]:
        """What row ``i`` reads: (ID text, fingerprint text)."""
        printed = self.prints[i] if self.prints is not None and i < len(self.prints) else ""
        return self.id(i), printed

    def rows_of_id(self, value: str) -> list[int]:
        return self._rows_of_id.get(value, [])

    def rows_of_key(self, key: tuple[str, str]) -> list[int]:
        return self._rows_of_key.get(key, [])

    def unique(self, value: str) -> bool:
        return bool(value) and len(self.rows_of_id(value)) == 1


def relocate(
    targets: Mapping[int, str | None], before: Snapshot, after: Snapshot
) -> dict[int, int]:
    """Where each sheet row seen at read time is now: ``{row then: row now}``.

    Why re-read the ID column rather than tag rows with developer metadata: IDs are already
    the stable key of a KR, a re-read needs nothing stored in the owners' sheet, works for
    rows people add by hand, and costs one small request just before the write, so the
    window in which an edit can slip between the two is milliseconds, not the whole sync.

    The rules, safest first:

    * nothing above or at the rows to write changed: every row is where it was;
    * a row with an ID goes to the row holding that ID now (the n-th of n duplicates to the
      n-th, when their count has not changed);
    * a row whose ID is blank (okrsync is assigning one) goes to the one row that is still
      blank and holds the same fingerprint text (its Key Result, say); when several rows read
      like that, it keeps its distance to the nearest unique ID above it, provided every row
      in between reads the same as before and no row reading like it appeared or went;
    * anything else is not written this time (the next sync reads afresh). Two rows that
      read the same in both columns cannot be told apart; neither is guessed.

    :param targets: sheet row (as read) -> its ID, or ``None`` when its ID is blank.
    """
    if not targets:
        return {}
    last = max(targets)
    lookalikes = any(
        len(before.rows_of_key(before.key(row - 1))) != len(after.rows_of_key(before.key(row - 1)))
        for row, ident in targets.items()
        if not ident
    )
    if not lookalikes and all(before.key(i) == after.key(i) for i in range(last)):
        return {row: row for row in targets}
    where: dict[int, int] = {}
    for row, ident in targets.items():
        i = row - 1
        if ident:
            then, now = before.rows_of_id(ident), after.rows_of_id(ident)
            if len(then) == len(now) and i in then:
                where[row] = now[then.index(i)] + 1
            continue
        mark = before.key(i)
        then, now = before.rows_of_key(mark), after.rows_of_key(mark)
        if len(then) != len(now):
            continue  # a row reading the same appeared or went: any pick would be a guess
        if mark[1] and len(then) == 1:
            where[row] = now[0] + 1
            continue
        found = _by_anchor(i, before, after)
        if found is not None:
            where[row] = found + 1
    return where


def _by_anchor(i: int, before: Snapshot, after: Snapshot) -> int | None:
    anchor, anchor_now = 0, 0  # the header row never moves
    for j in range(i - 1, 0, -1):
        ident = before.id(j)
        if before.unique(ident) and after.unique(ident):
            anchor, anchor_now = j, after.rows_of_id(ident)[0]
            break
    for j in range(anchor + 1, i + 1):
        if before.key(j) != after.key(anchor_now + (j - anchor)):
            return None
    return anchor_now + (i - anchor)


def _id_column(table: SheetTable, changes: Sequence[CellChange]) -> int | None:
    """The 1-based ID column: where IDs are filled, else where the changes' keys sit."""
    fills = [c.col for c in changes if c.column == Col.ID and c.row > 1]
    if fills:
        return fills[0]
    votes: Counter[int] = Counter()
    for c in changes:
        if c.row > 1 and c.key:
            for j, value in enumerate(_row(table, c.row)):
                if _id_text(value) == c.key.strip():
                    votes[j + 1] += 1
    named = [j + 1 for j, h in enumerate(table.header) if normalize_header(h) == "id"]
    if votes:
        best = max(votes.values())
        winners = sorted(j for j, n in votes.items() if n == best)
        return next((j for j in winners if j in named), winners[0])
    return named[0] if named else None


def _fingerprint_column(table: SheetTable, id_col: int, written: set[int]) -> int | None:
    """The owner column that best tells rows apart (most distinct texts), or ``None``."""
    best, best_count = None, 0
    width = max(len(table.header), *(len(r) for r in table.rows)) if table.rows else 0
    for col in range(1, width + 1):
        if col == id_col or col in written:
            continue
        distinct = len({t for t in _column_texts(table, col)[1:] if t})
        if distinct > best_count:
            best, best_count = col, distinct
    return best


def _check_columns(
    worksheet: str,
    then: Sequence[str],
    now: Sequence[str],
    changes: Sequence[CellChange],
    id_col: int,
) -> None:
    """Refuse to write when the columns moved since the read: values would land beside."""
    creating = {c.col: c.value for c in changes if c.row == 1}
    for col in sorted({id_col} | {c.col for c in changes}):
        was = then[col - 1] if col - 1 < len(then) else ""
        is_ = now[col - 1] if col - 1 < len(now) else ""
        if normalize_header(was) == normalize_header(is_):
            continue
        if col in creating and normalize_header(is_) == normalize_header(creating[col]):
            continue  # someone (a previous run) already wrote the header we are adding
        raise SheetError(
            f'The columns of worksheet "{worksheet}" changed while okrsync was syncing (column '
            f'{col_letter(col)} was "{was}", now "{is_}"); nothing was written, run the sync again.'
        )


# --- building requests -----------------------------------------------------------------------


def _write_requests(
    props: Mapping[str, Any], placed: Sequence[tuple[int, int, CellChange]]
) -> list[dict[str, Any]]:
    """The batch: grow the grid if needed, then per run of adjacent changed cells in a
    column, one ``repeatCell`` for the run's number format (when the column has one) and
    one ``updateCells`` for its values. Formats go once per run rather than once per cell,
    which keeps a first sync of 10k rows to a few MB."""
    if not placed:
        return []
    sheet_id = props["sheetId"]
    batch: list[dict[str, Any]] = []
    grid_cols = props.get("gridProperties", {}).get("columnCount", 0)
    width = max(col for _, col, _ in placed) + 1
    if width > grid_cols:
        batch.append(_append_columns(sheet_id, width - grid_cols))
    cells: dict[tuple[int, str], dict[int, dict[str, Any]]] = {}
    formats: dict[str, dict[str, str]] = {}
    for row, col, change in placed:
        value, fmt = _change_cell(change)
        fmt_key = json.dumps(fmt, sort_keys=True) if fmt else ""
        formats[fmt_key] = fmt or {}
        cells.setdefault((col, fmt_key), {})[row] = value
    for (col, fmt_key), by_row in sorted(cells.items()):
        for start, run in _runs(by_row):
            if fmt_key:
                batch.append(
                    _repeat_format(sheet_id, start, start + len(run), col, formats[fmt_key])
                )
            batch.append(_update_cells(sheet_id, start, col, [[v] for v in run], VALUE_ONLY))
    return batch


def _runs(by_row: Mapping[int, dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """``{row: cell}`` as runs of consecutive rows: ``[(first row, [cell, ...]), ...]``."""
    runs: list[tuple[int, list[dict[str, Any]]]] = []
    prev = None
    for row in sorted(by_row):
        if prev is not None and row == prev + 1:
            runs[-1][1].append(by_row[row])
        else:
            runs.append((row, [by_row[row]]))
        prev = row
    return runs


def _repeat_format(
    sheet_id: int, start: int, end: int, col: int, fmt: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "repeatCell": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": start,
                "endRowIndex": end,
                "startColumnIndex": col,
                "endColumnIndex": col + 1,
            },
            "cell": {"userEnteredFormat": {"numberFormat": dict(fmt)}},
            "fields": "userEnteredFormat.numberFormat",
        }
    }


def _append_columns(sheet_id: int, count: int) -> dict[str, Any]:
    return {"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": count}}


def _update_cells(
    sheet_id: int, row: int, col: int, block: Sequence[Sequence[dict[str, Any]]], fields: str
) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
            "rows": [{"values": list(values)} for values in block],
            "fields": fields,
        }
    }


def _change_cell(change: CellChange) -> tuple[dict[str, Any], dict[str, str] | None]:
    """CellData (the value only) for one change, and the number format its column takes."""
    if change.row == 1:
        return _cell_data(change.value, None), None
    fmt: dict[str, str] | None = None
    if change.column in PERCENT_COLUMNS:
        fmt = PERCENT_FORMAT
    elif change.column in DATE_COLUMNS:
        fmt = DATE_FORMAT
    elif change.column in INTEGER_COLUMNS:
        fmt = INTEGER_FORMAT
    else:
        fmt = _value_format(change.value)
    return _cell_data(change.value, None), fmt


def _value_format(value: Cell) -> dict[str, str] | None:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DATE_FORMAT
    if isinstance(value, Percent):
        return PERCENT_FORMAT
    return None


def _append_cell(value: Cell) -> dict[str, Any]:
    return _cell_data(value, _value_format(value))


def _cell_data(value: Cell, fmt: Mapping[str, str] | None) -> dict[str, Any]:
    """CellData: text as ``stringValue`` (never a formula), dates as serial numbers."""
    data: dict[str, Any] = {}
    extended = _extended_value(value)
    if extended is not None:
        data["userEnteredValue"] = extended
    if fmt:
        data["userEnteredFormat"] = {"numberFormat": dict(fmt)}
    return data


def _extended_value(value: Cell) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, dt.datetime | dt.date):
        return {"numberValue": serial_number(value)}
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return {"numberValue": float(value) if isinstance(value, Percent) else value}
    text = str(value)
    return {"stringValue": text} if text else None


def _arrange(
    known: SheetTable | None, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> tuple[list[list[Cell]], list[str], list[tuple[int, str]]]:
    """Rows laid out under the worksheet's own header (as read), new headers at its right."""
    if known is None:
        return [list(r) for r in rows], list(header), []
    existing = [normalize_header(h) for h in known.header]
    while existing and not existing[-1]:
        existing.pop()
    if not existing:  # an empty worksheet: the header goes first
        return [list(header), *(list(r) for r in rows)], list(header), []
    final = list(known.header[: len(existing)])
    positions: list[int] = []
    added: list[tuple[int, str]] = []
    for text in header:
        key = normalize_header(text)
        if key in existing:
            positions.append(existing.index(key))
        else:
            positions.append(len(final))
            added.append((len(final), text))
            existing.append(key)
            final.append(text)
    body: list[list[Cell]] = []
    for row in rows:
        out: list[Cell] = [None] * len(final)
        for value, pos in zip(row, positions, strict=False):
            out[pos] = value
        while out and out[-1] is None:
            out.pop()
        body.append(out)
    return body, final, added


# --- reading helpers -------------------------------------------------------------------------


def _values_params(major_dimension: str) -> dict[str, str]:
    """Query parameters of a values read: typed cells, dates as serial numbers.

    The sync's read and the re-read before a write must see cells the same way: the
    write finds each row again by comparing the IDs and headers of the two.
    """
    return {
        "valueRenderOption": "UNFORMATTED_VALUE",
        "dateTimeRenderOption": "SERIAL_NUMBER",
        "prettyPrint": "false",  # Google indents answers by default: a third of the bytes
        "majorDimension": major_dimension,
    }


def _a1(title: str) -> str:
    """A sheet title quoted for a range (``'Check-ins'``; quotes in it doubled)."""
    return "'" + title.replace("'", "''") + "'"


def _grid_data(got: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The GridData blocks of a spreadsheets.get for one worksheet's ranges, in order."""
    sheets = got.get("sheets") or [{}]
    return list(sheets[0].get("data") or [])


def _table(title: str, values: Sequence[Sequence[Any]]) -> SheetTable:
    if not values:
        return SheetTable(title=title, header=[], rows=[])
    header = [_header_text(v) for v in values[0]]
    rows = [[_typed(v) for v in row] for row in values[1:]]
    return SheetTable(title=title, header=header, rows=rows)


def _typed(value: Any) -> Cell:
    """A value of an UNFORMATTED_VALUE response as a backend cell ("" is a blank)."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _header_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _id_text(value: Any) -> str:
    """An ID cell as text to compare: ``7`` and ``7.0`` are ``"7"``, blanks ``""``."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row(table: SheetTable, row: int) -> Sequence[Cell]:
    i = row - 2
    return table.rows[i] if 0 <= i < len(table.rows) else ()


def _at(row: Sequence[Cell], col: int) -> Cell:
    return row[col - 1] if col - 1 < len(row) else None


def _column_texts(table: SheetTable, col: int) -> list[str]:
    """A column's texts by sheet row (index 0 is the header), as :func:`_id_text` has them."""
    head = table.header[col - 1] if col - 1 < len(table.header) else ""
    return [_id_text(head)] + [_id_text(_at(row, col)) for row in table.rows]
