"""Fixtures for Google Sheets tests: the local Sheets API v4 emulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# --- Google Sheets API emulator (issue 4) ---------------------------------------------------
# scripts/ is not a package; its emulator is imported from there so that the suite and a
# person trying gsheets mode by hand run the same code.
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from sheets_emulator import Emulator  # noqa: E402


@pytest.fixture(scope="session")
def sheets_emulator_server() -> Iterator[Emulator]:
    """One emulator per test session (per xdist worker) on 127.0.0.1, random port."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def sheets_emulator(sheets_emulator_server: Emulator) -> Emulator:
    """The emulator, emptied: no spreadsheets, requests, faults or tokens left from before."""
    sheets_emulator_server.reset()
    return sheets_emulator_server


@pytest.fixture
def fast_sheets_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry 429/5xx within a fraction of a second, for every GSheetsBackend a test opens."""
    from okrsync.backends.gsheets import GSheetsBackend, RetryPolicy

    monkeypatch.setattr(GSheetsBackend, "retry", RetryPolicy(budget=0.5, base=0.01, cap=0.05))


@pytest.fixture(scope="session")
def _throwaway_rsa_pem() -> str:
    """A private key made for this test run only, so that no real credential is ever used."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@pytest.fixture
def make_service_account(
    tmp_path: Path, sheets_emulator: Emulator, _throwaway_rsa_pem: str
) -> Callable[..., Path]:
    """Write a service-account JSON whose token_uri is the emulator's ``/token``:
    ``make_service_account(email="okrsync@test-project.iam.gserviceaccount.com")``."""

    def make(email: str = "okrsync@test-project.iam.gserviceaccount.com") -> Path:
        path = tmp_path / "service-account.json"
        info = {
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "0" * 40,
            "private_key": _throwaway_rsa_pem,
            "client_email": email,
            "client_id": "1" * 21,
            "token_uri": sheets_emulator.token_uri,
        }
        path.write_text(json.dumps(info), encoding="utf-8")
        return path

    return make
