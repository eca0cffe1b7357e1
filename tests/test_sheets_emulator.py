"""The Sheets API emulator refuses what Google refuses and answers the way Google answers.

Every test talks real HTTP to the emulator on 127.0.0.1. The wording of Google's messages
checked here is the one the real API sends (see the emulator's module docstring).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gspread
import openpyxl
import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from sheets_emulator import Emulator

from okrsync.backends.gsheets import SheetsHTTPClient

HEADER = ["ID", "Objective", "Current", "Check-in Date"]


@pytest.fixture
def okrs(sheets_emulator: Emulator) -> str:
    return sheets_emulator.add_spreadsheet(
        "OKRs",
        {
            "Check-ins": [
                HEADER,
                ["KR-1", "Grow", "75%", dt.date(2026, 11, 20)],
                ["KR-2", "Keep", 3, None, None, None],
                [],
                [None, None, "  "],
                [],
            ],
            "Bob's sheet": [["a", "b"], [1, 2]],
        },
    )


@pytest.fixture
def api(sheets_emulator: Emulator, okrs: str) -> Api:
    return Api(f"{sheets_emulator.url}/v4/spreadsheets/{okrs}")


class Api:
    """A bare HTTP client: exactly what is sent is what the emulator judges."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def get(self, path: str = "", **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=10)

    def values(self, a1: str, **params: Any) -> requests.Response:
        return self.get("/values/" + quote(a1, safe=""), **params)

    def put(self, a1: str, body: Any, **params: Any) -> requests.Response:
        url = self.base + "/values/" + quote(a1, safe="")
        return self.session.put(url, params=params, json=body, timeout=10)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.session.post(self.base + path, params=params, json=body, timeout=10)

    def batch(self, *requests_: dict[str, Any]) -> requests.Response:
        return self.post(":batchUpdate", {"requests": list(requests_)})


def error_of(response: requests.Response, code: int = 400) -> str:
    """The message of a Google error answer, after checking its shape."""
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert (
        error["status"]
        == {
            400: "INVALID_ARGUMENT",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }[code]
    )
    return error["message"]


# --- strictness: the discovery document ---------------------------------------------------


def test_unknown_body_field_is_refused_with_googles_message(api: Api) -> None:
    """An unknown field anywhere in a body is a 400 naming it and where it was."""
    response = api.batch(
        {"updateCells": {"start": {"sheetId": 0}, "rowz": [], "fields": "userEnteredValue"}}
    )
    assert error_of(response) == (
        "Invalid JSON payload received. Unknown name \"rowz\" at 'requests[0].update_cells': "
        "Cannot find field."
    )


def test_unknown_top_level_field_is_refused(api: Api) -> None:
    response = api.post(":batchUpdate", {"requests": [], "dryRun": True})
    assert error_of(response) == (
        'Invalid JSON payload received. Unknown name "dryRun": Cannot find field.'
    )


def test_wrong_type_and_unknown_enum_in_a_body_are_each_reported(api: Api) -> None:
    """Every problem in a body is reported, one per line, with the proto field path."""
    response = api.batch(
        {"updateCells": {"start": {"sheetId": 0, "rowIndex": "a"}, "fields": "userEnteredValue"}},
        {"appendDimension": {"sheetId": 0, "dimension": "ROWZ", "length": 1}},
    )
    assert error_of(response).splitlines() == [
        "Invalid value at 'requests[0].update_cells.start.row_index' (TYPE_INT32), \"a\"",
        "Invalid value at 'requests[1].append_dimension.dimension' "
        '(type.googleapis.com/google.apps.sheets.v4.Dimension), "ROWZ"',
    ]


def test_unknown_enum_and_unknown_query_parameter_are_refused(api: Api) -> None:
    response = api.get("/values:batchGet", ranges="A1", valueRenderOption="RAW_VALUE", foo="1")
    assert error_of(response).splitlines() == [
        "Invalid value at 'value_render_option' "
        '(type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "RAW_VALUE"',
        'Invalid JSON payload received. Unknown name "foo": Cannot bind query parameter. '
        "Field 'foo' could not be found in request message.",
    ]


def test_snake_case_names_are_accepted_as_google_accepts_them(
    api: Api, sheets_emulator: Emulator, okrs: str
) -> None:
    """Proto JSON takes a field's original snake_case name too."""
    response = api.put("'Check-ins'!F2", {"values": [["x"]]}, value_input_option="RAW")
    assert response.status_code == 200, response.text
    assert sheets_emulator.values(okrs, "Check-ins")[1][5] == "x"


def test_a_field_mask_naming_nothing_is_refused(api: Api) -> None:
    response = api.get("", fields="sheets.propertiez")
    assert error_of(response) == "Request contains an invalid argument."
    violation = response.json()["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == "sheets.propertiez"


def test_values_write_needs_a_value_input_option(api: Api) -> None:
    response = api.put("'Check-ins'!A1", {"values": [["x"]]})
    assert error_of(response) == "'valueInputOption' is required but not specified"


def test_a_nested_list_is_not_a_cell(api: Api) -> None:
    response = api.put("'Check-ins'!F2", {"values": [["ok", {"a": 1}]]}, valueInputOption="RAW")
    assert error_of(response) == "Invalid values[0][1]: struct_value {\n}\n"


# --- Google's values semantics -------------------------------------------------------------


def test_trailing_blank_rows_and_cells_are_omitted(api: Api) -> None:
    """Blank cells inside a row are "", trailing ones and trailing blank rows are left out."""
    body = api.values("'Check-ins'", valueRenderOption="UNFORMATTED_VALUE").json()
    assert body["range"] == "'Check-ins'!A1:Z1000"
    assert body["values"] == [
        HEADER,
        ["KR-1", "Grow", 0.75, 46346],
        ["KR-2", "Keep", 3],
        [],
        ["", "", "  "],
    ]


def test_an_empty_range_has_no_values_key(api: Api) -> None:
    body = api.values("'Check-ins'!F1:G").json()
    assert body == {"range": "'Check-ins'!F1:G1000", "majorDimension": "ROWS"}


def test_columns_major_dimension(api: Api) -> None:
    body = api.values("'Check-ins'!A1:B", majorDimension="COLUMNS").json()
    assert body["values"] == [["ID", "KR-1", "KR-2"], ["Objective", "Grow", "Keep"]]


def test_formatted_and_unformatted_rendering_of_percent_and_date(api: Api) -> None:
    """A typed 75% is the number 0.75 shown as 75%; a date is a serial number shown as typed."""
    row = "'Check-ins'!C2:D2"
    assert api.values(row).json()["values"] == [["75%", "2026-11-20"]]
    assert api.values(row, valueRenderOption="UNFORMATTED_VALUE").json()["values"] == [
        [0.75, 46346]
    ]
    formatted_dates = api.values(
        row, valueRenderOption="UNFORMATTED_VALUE", dateTimeRenderOption="FORMATTED_STRING"
    )
    assert formatted_dates.json()["values"] == [[0.75, "2026-11-20"]]


def test_raw_input_is_stored_as_typed_and_user_entered_is_parsed(
    api: Api, sheets_emulator: Emulator, okrs: str
) -> None:
    """Only USER_ENTERED makes "=1+1" a formula and "123" a number."""
    raw = api.put("'Check-ins'!F2:G2", {"values": [["=1+1", "123"]]}, valueInputOption="RAW")
    typed = api.put(
        "'Check-ins'!F3:G3", {"values": [["=1+1", "123"]]}, valueInputOption="USER_ENTERED"
    )
    assert raw.status_code == typed.status_code == 200
    assert raw.json()["updatedRange"] == "'Check-ins'!F2:G2"
    values = api.values("'Check-ins'!F2:G3", valueRenderOption="UNFORMATTED_VALUE").json()
    assert values["values"] == [["=1+1", "123"], [2, 123]]
    formulas = api.values("'Check-ins'!F2:G3", valueRenderOption="FORMULA").json()
    assert formulas["values"] == [["=1+1", "123"], ["=1+1", 123]]
    assert sheets_emulator.cell(okrs, "Check-ins", "F2")["userEnteredValue"] == {
        "stringValue": "=1+1"
    }
    assert sheets_emulator.cell(okrs, "Check-ins", "F3")["userEnteredValue"] == {
        "formulaValue": "=1+1"
    }


def test_a_hyperlink_formula_shows_its_label(sheets_emulator: Emulator) -> None:
    key = sheets_emulator.add_spreadsheet("x", {"S": [['=HYPERLINK("http://x","y")']]})
    cell = sheets_emulator.cell(key, "S", "A1")
    assert cell["formattedValue"] == "y"
    assert cell["hyperlink"] == "http://x"
    assert sheets_emulator.values(key, "S", "FORMULA") == [['=HYPERLINK("http://x","y")']]


def test_writes_past_the_grid_are_refused(api: Api) -> None:
    response = api.put("'Check-ins'!A1001", {"values": [["x"]]}, valueInputOption="RAW")
    assert error_of(response) == (
        "Range ('Check-ins'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    past_columns = api.batch(
        {
            "updateCells": {
                "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 26},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                "fields": "userEnteredValue",
            }
        }
    )
    assert error_of(past_columns) == (
        "Invalid requests[0].updateCells: Range ('Check-ins'!AA1) exceeds grid limits. "
        "Max rows: 1000, max columns: 26"
    )


def test_a_batch_update_applies_all_or_nothing(
    api: Api, sheets_emulator: Emulator, okrs: str
) -> None:
    """The grid grows and the cell is written in one batch, or neither happens."""
    before = sheets_emulator.values(okrs, "Check-ins")
    cell = {"userEnteredValue": {"stringValue": "x"}}
    write = {
        "updateCells": {
            "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 26},
            "rows": [{"values": [cell]}],
            "fields": "userEnteredValue",
        }
    }
    grow = {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 1}}
    bad = {"appendDimension": {"sheetId": 99, "dimension": "COLUMNS", "length": 1}}
    assert (
        error_of(api.batch(grow, write, bad))
        == "Invalid requests[2].appendDimension: No grid with id: 99"
    )
    assert sheets_emulator.values(okrs, "Check-ins") == before
    assert sheets_emulator.sheet(okrs, "Check-ins").col_count == 26
    assert api.batch(grow, write).status_code == 200
    assert sheets_emulator.values(okrs, "Check-ins")[0][26] == "x"


def test_quoted_sheet_names_in_ranges(api: Api) -> None:
    """A title with a quote is written 'Bob''s sheet'; plain titles need no quotes."""
    body = api.values("'Bob''s sheet'!A1:B", valueRenderOption="UNFORMATTED_VALUE").json()
    assert body["range"] == "'Bob''s sheet'!A1:B1000"
    assert body["values"] == [["a", "b"], [1, 2]]
    unquoted = api.values("A1:A2").json()  # no title: the first sheet
    assert unquoted["range"] == "'Check-ins'!A1:A2"
    assert error_of(api.values("Nope!A1")) == "Unable to parse range: Nope!A1"


def test_a_read_starting_outside_the_grid_is_refused(api: Api) -> None:
    assert error_of(api.values("'Check-ins'!A1001:B")) == (
        "Range ('Check-ins'!A1001:B) exceeds grid limits. Max rows: 1000, max columns: 26"
    )


def test_metadata_with_fields_and_ranges(api: Api) -> None:
    """``fields`` trims the answer; ``ranges`` keeps only the sheets they touch."""
    meta = api.get("", fields="properties.title,sheets.properties(title,gridProperties)").json()
    assert meta == {
        "properties": {"title": "OKRs"},
        "sheets": [
            {
                "properties": {
                    "title": "Check-ins",
                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                }
            },
            {
                "properties": {
                    "title": "Bob's sheet",
                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                }
            },
        ],
    }
    data = api.get("", ranges="'Bob''s sheet'!A2:B2", includeGridData="true").json()
    assert [s["properties"]["title"] for s in data["sheets"]] == ["Bob's sheet"]
    grid = data["sheets"][0]["data"][0]
    assert grid["startRow"] == 1
    assert [c["effectiveValue"] for c in grid["rowData"][0]["values"]] == [
        {"numberValue": 1},
        {"numberValue": 2},
    ]


def test_unknown_spreadsheet_is_404(sheets_emulator: Emulator) -> None:
    response = requests.get(f"{sheets_emulator.url}/v4/spreadsheets/nope", timeout=10)
    assert error_of(response, 404) == "Requested entity was not found."


def test_a_sheet_shared_with_someone_else_is_403(sheets_emulator: Emulator) -> None:
    key = sheets_emulator.add_spreadsheet("x", shared_with=["someone@example.com"])
    response = requests.get(f"{sheets_emulator.url}/v4/spreadsheets/{key}", timeout=10)
    assert error_of(response, 403) == "The caller does not have permission"


def test_setup_requests_are_stored_and_served_back(api: Api) -> None:
    """Validation, conditional formats, protection and column widths come back from get."""
    column = {"sheetId": 0, "startColumnIndex": 4, "endColumnIndex": 5}
    response = api.batch(
        {
            "setDataValidation": {
                "range": {**column, "startRowIndex": 1, "endRowIndex": 3},
                "rule": {
                    "condition": {
                        "type": "ONE_OF_LIST",
                        "values": [{"userEnteredValue": "on track"}],
                    },
                    "strict": True,
                },
            }
        },
        {
            "addConditionalFormatRule": {
                "rule": {
                    "ranges": [column],
                    "booleanRule": {
                        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "done"}]},
                        "format": {"backgroundColor": {"green": 1}},
                    },
                },
                "index": 0,
            }
        },
        {"addProtectedRange": {"protectedRange": {"range": column, "warningOnly": True}}},
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 4, "endIndex": 5},
                "properties": {"pixelSize": 240},
                "fields": "pixelSize",
            }
        },
        {
            "repeatCell": {
                "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
    )
    assert response.status_code == 200, response.text
    replies = response.json()["replies"]
    assert replies[2]["addProtectedRange"]["protectedRange"]["protectedRangeId"] == 1
    sheet = api.get("", ranges="'Check-ins'!A1:E2", includeGridData="true").json()["sheets"][0]
    assert sheet["conditionalFormats"][0]["booleanRule"]["condition"]["type"] == "TEXT_EQ"
    assert sheet["protectedRanges"][0]["warningOnly"] is True
    data = sheet["data"][0]
    assert data["columnMetadata"][4]["pixelSize"] == 240
    header_format = data["rowData"][0]["values"][0]["userEnteredFormat"]
    assert header_format == {"textFormat": {"bold": True}}
    assert data["rowData"][1]["values"][4]["dataValidation"]["strict"] is True


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {
                "setDataValidation": {
                    "range": {"sheetId": 0},
                    "rule": {"condition": {"type": "TEXT_EQ"}},
                }
            },
            "Condition type TEXT_EQ requires 1 ConditionValue(s), got 0.",
        ),
        (
            {
                "setDataValidation": {
                    "range": {"sheetId": 0},
                    "rule": {
                        "condition": {
                            "type": "DATE_IS_VALID",
                            "values": [{"userEnteredValue": "x"}],
                        }
                    },
                }
            },
            "Condition type DATE_IS_VALID requires 0 ConditionValue(s), got 1.",
        ),
        (
            {
                "addConditionalFormatRule": {
                    "rule": {
                        "ranges": [{"sheetId": 0}],
                        "booleanRule": {"condition": {"type": "ONE_OF_LIST"}, "format": {}},
                    }
                }
            },
            "Condition type ONE_OF_LIST is not supported for conditional formatting.",
        ),
        (
            {
                "addConditionalFormatRule": {
                    "rule": {
                        "ranges": [{"sheetId": 0}],
                        "booleanRule": {
                            "condition": {
                                "type": "TEXT_EQ",
                                "values": [{"userEnteredValue": "done"}],
                            },
                            "format": {"textFormat": {"fontSize": 14}},
                        },
                    }
                }
            },
            "Conditional formatting can only apply a subset of formatting: bold, italic, "
            "strikethrough, foreground color and, background color.",
        ),
    ],
    ids=["too-few-values", "too-many-values", "not-for-colours", "format-beyond-the-subset"],
)
def test_conditions_are_checked_as_the_discovery_document_says(
    api: Api, request_: dict[str, Any], message: str
) -> None:
    """Each condition type's uses and value count come from its description in the
    discovery document; a conditional rule may only set bold, italic, strike and colours."""
    kind = next(iter(request_))
    assert error_of(api.batch(request_)) == f"Invalid requests[0].{kind}: {message}"


# --- fault injection and the log ------------------------------------------------------------


def test_injected_faults_answer_in_googles_shape_then_clear(
    api: Api, sheets_emulator: Emulator
) -> None:
    sheets_emulator.fail_next(429, retry_after=3)
    sheets_emulator.fail_next(503, count=2)
    limited = api.get("")
    assert "Quota exceeded" in error_of(limited, 429)
    assert limited.headers["Retry-After"] == "3"
    assert error_of(api.get(""), 503) == "The service is currently unavailable."
    assert error_of(api.get(""), 503)
    assert api.get("").status_code == 200
    assert [(r.api, r.status) for r in sheets_emulator.api_calls()] == [
        ("spreadsheets.get", 429),
        ("spreadsheets.get", 503),
        ("spreadsheets.get", 503),
        ("spreadsheets.get", 200),
    ]


def test_another_user_inserts_a_row_before_the_next_request(
    api: Api, sheets_emulator: Emulator, okrs: str
) -> None:
    sheets_emulator.insert_rows_before_next_request(okrs, "Check-ins", 2, values=[["KR-9"]])
    assert sheets_emulator.values(okrs, "Check-ins")[1][0] == "KR-1"  # not yet
    body = api.values("'Check-ins'!A1:A3").json()
    assert body["values"] == [["ID"], ["KR-9"], ["KR-1"]]
    assert sheets_emulator.sheet(okrs, "Check-ins").row_count == 1001


def test_the_log_records_each_request(api: Api, sheets_emulator: Emulator) -> None:
    api.values("'Check-ins'!A1", valueRenderOption="FORMULA")
    (entry,) = sheets_emulator.api_calls()
    assert entry.method == "GET"
    assert entry.api == "spreadsheets.values.get"
    assert entry.query == {"valueRenderOption": ["FORMULA"]}
    assert entry.status == 200
    assert entry.caller is None
    assert entry.bytes_out > 0


def test_bearer_tokens_from_the_token_endpoint_identify_the_caller(
    sheets_emulator: Emulator, okrs: str
) -> None:
    claims = '{"iss":"bot@p.iam.gserviceaccount.com"}'
    import base64

    payload = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    token = requests.post(
        sheets_emulator.token_uri,
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": f"e30.{payload}.sig",
        },
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{sheets_emulator.url}/v4/spreadsheets/{okrs}"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    assert sheets_emulator.api_calls()[-1].caller == "bot@p.iam.gserviceaccount.com"
    bad = requests.get(url, headers={"Authorization": "Bearer forged"}, timeout=10)
    assert bad.status_code == 401


# --- what gspread itself uses ---------------------------------------------------------------


def test_gspread_worksheet_calls_work_against_it(sheets_emulator: Emulator, okrs: str) -> None:
    """gspread's own Worksheet API, routed to the emulator, reads and writes as on Google."""
    client = gspread.Client(AnonymousCredentials(), http_client=SheetsHTTPClient)
    assert isinstance(client.http_client, SheetsHTTPClient)
    client.http_client.endpoint = sheets_emulator.url
    sheet = client.open_by_key(okrs)
    ws = sheet.worksheet("Check-ins")
    assert ws.row_count == 1000
    assert ws.get_all_values()[:3] == [
        HEADER,
        ["KR-1", "Grow", "75%", "2026-11-20"],
        ["KR-2", "Keep", "3", ""],
    ]
    ws.update([["=2*3", "text"]], "E2", value_input_option="USER_ENTERED")
    ws.append_row(["KR-3", "New"], value_input_option="RAW")
    assert ws.acell("E2").value == "6"
    assert ws.acell("E2", value_render_option="FORMULA").value == "=2*3"
    assert ws.col_values(1) == ["ID", "KR-1", "KR-2", "", "", "KR-3"]
    ws.batch_clear(["E2:F2"])
    assert ws.row_values(2) == ["KR-1", "Grow", "75%", "2026-11-20"]


# --- loading a workbook and the command line -------------------------------------------------


def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Check-ins"
    ws.append(["ID", "Current", "Check-in Date", "Total"])
    ws.append(["KR-1", 0.5, dt.date(2026, 11, 2), "=1+2"])
    ws["B2"].number_format = "0%"
    ws["C2"].number_format = "yyyy-mm-dd"
    wb.save(path)
    return path


def test_load_xlsx_keeps_types_formats_and_formulas(
    sheets_emulator: Emulator, tmp_path: Path
) -> None:
    key = sheets_emulator.load_xlsx(_workbook(tmp_path / "okrs.xlsx"))
    assert sheets_emulator.values(key, "Check-ins", "FORMATTED_VALUE") == [
        ["ID", "Current", "Check-in Date", "Total"],
        ["KR-1", "50%", "2026-11-02", "3"],
    ]
    assert sheets_emulator.values(key, "Check-ins")[1] == ["KR-1", 0.5, 46328, 3]


def test_command_line_serves_a_workbook(tmp_path: Path) -> None:
    """``sheets_emulator.py --port 0 --load x.xlsx`` prints the id and URL to configure."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "sheets_emulator.py"
    workbook = _workbook(tmp_path / "okrs.xlsx")
    with subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--load", str(workbook), "--id", "abc123"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if "Ctrl-C" in line:
                    break
            text = "".join(lines)
            assert 'spreadsheet = "abc123"' in text
            url = next(ln.split('"')[1] for ln in lines if "api_endpoint" in ln)
            assert url.startswith("http://127.0.0.1:")
            body = requests.get(f"{url}/v4/spreadsheets/abc123/values/A1", timeout=10).json()
            assert body["values"] == [["ID"]]
            page = requests.get(f"{url}/spreadsheets/d/abc123/edit", timeout=10)
            assert "KR-1" in page.text
        finally:
            proc.terminate()
