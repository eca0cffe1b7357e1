"""okrsync: turn a shared OKR check-in spreadsheet into a working check-in system."""

from __future__ import annotations

__version__ = "0.1.0"
