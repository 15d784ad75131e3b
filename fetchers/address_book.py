"""The address book of labelled exchange BTC wallets: the packaged list, extended by a user file.

The packaged file (fetchers/data/exchange_addresses.json) lists cold and reserve wallets from public address-label
lists, each with its exchange, category, source and date. A user file (WINDVANE_ADDRESS_BOOK) in the same format
({"entries": [...]}, or a bare list) adds entries; an address it repeats replaces the packaged entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

Category = Literal["institutional", "retail", "derivatives"]
CATEGORIES: tuple[Category, ...] = ("institutional", "retail", "derivatives")
PACKAGED = Path(__file__).with_name("data") / "exchange_addresses.json"


class AddressBookError(ValueError):
    """The address book file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    exchange: str
    address: str
    category: Category
    source: str
    date: str


@dataclass(frozen=True)
class AddressBook:
    entries: tuple[Entry, ...]
    not_covered: dict[str, str]

    def exchanges(self) -> list[str]:
        return sorted({e.exchange for e in self.entries})

    def by_exchange(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for entry in self.entries:
            out.setdefault(entry.exchange, []).append(entry)
        return out

    def category_of(self, exchange: str) -> Category | None:
        for entry in self.entries:
            if entry.exchange == exchange:
                return entry.category
        return None


def _entries(raw: Any, origin: str) -> list[Entry]:
    rows = raw.get("entries") if isinstance(raw, dict) else raw
    if not isinstance(rows, list):
        raise AddressBookError(f"{origin}: expected a list of entries or {{'entries': [...]}}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise AddressBookError(f"{origin}: entry {i} is not an object")
        missing = [k for k in ("exchange", "address", "category", "source", "date") if not row.get(k)]
        if missing:
            raise AddressBookError(f"{origin}: entry {i} lacks {', '.join(missing)}")
        category = str(row["category"]).strip().lower()
        if category not in CATEGORIES:
            raise AddressBookError(f"{origin}: entry {i} category {category!r} is not one of {', '.join(CATEGORIES)}")
        out.append(
            Entry(
                exchange=str(row["exchange"]).strip().lower(),
                address=str(row["address"]).strip(),
                category=category,
                source=str(row["source"]),
                date=str(row["date"]),
            )
        )
    return out


@cache
def _packaged() -> tuple[tuple[Entry, ...], tuple[tuple[str, str], ...]]:
    raw = json.loads(PACKAGED.read_text())
    return tuple(_entries(raw, PACKAGED.name)), tuple(sorted(raw.get("not_covered", {}).items()))


def load(user_file: Path | None = None) -> AddressBook:
    packaged, not_covered = _packaged()
    by_address = {e.address: e for e in packaged}
    if user_file is not None:
        try:
            raw = json.loads(user_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise AddressBookError(f"WINDVANE_ADDRESS_BOOK {user_file}: {exc}") from None
        for entry in _entries(raw, str(user_file)):
            by_address[entry.address] = entry
    covered = {e.exchange for e in by_address.values()}
    return AddressBook(
        entries=tuple(by_address.values()),
        not_covered={k: v for k, v in not_covered if k not in covered},
    )
