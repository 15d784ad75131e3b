"""The packaged address book: well-formed, checksummed addresses, each with exchange, category, source and date."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from fetchers.address_book import CATEGORIES, PACKAGED, AddressBookError, load

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check_ok(address: str) -> bool:
    n = 0
    for ch in address:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes(25, "big")
    return address[0] in "13" and hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def bech32_ok(address: str) -> bool:
    hrp, _, data = address.rpartition("1")
    values = [BECH32.index(c) for c in data]
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    witness_version = values[0]
    return hrp == "bc" and chk == (1 if witness_version == 0 else 0x2BC830A3)  # bech32 / bech32m


def test_every_packaged_address_has_a_valid_checksum() -> None:
    book = load()
    bad = [
        e.address
        for e in book.entries
        if not (bech32_ok(e.address) if e.address.startswith("bc1") else base58check_ok(e.address))
    ]
    assert bad == []


def test_entries_are_complete_unique_and_cited() -> None:
    raw = json.loads(PACKAGED.read_text())
    entries = raw["entries"]
    assert len(entries) == len({e["address"] for e in entries})
    for e in entries:
        assert e["category"] in CATEGORIES
        assert "DefiLlama/DefiLlama-Adapters" in e["source"]
        assert "projects/helper/bitcoin-book/" in e["source"]
        assert len(e["date"]) == 10
    counts = Counter(e["exchange"] for e in entries)
    for exchange in ("binance", "bitfinex", "kraken", "okx", "bybit", "deribit"):
        assert counts[exchange] > 0
    assert "coinbase" not in counts
    assert "coinbase" in raw["not_covered"]


def test_each_exchange_has_one_category() -> None:
    book = load()
    for exchange, entries in book.by_exchange().items():
        assert len({e.category for e in entries}) == 1, exchange
    assert book.category_of("kraken") == "institutional"
    assert book.category_of("binance") == "retail"
    assert book.category_of("deribit") == "derivatives"


def test_user_file_adds_and_overrides(tmp_path: Path) -> None:
    kraken_first = next(e for e in load().entries if e.exchange == "kraken")
    moved = {
        **kraken_first.__dict__,
        "exchange": "my-desk",
        "category": "institutional",
        "source": "me",
        "date": "2025-01-01",
    }
    extra = {
        "exchange": "gemini",
        "address": "bc1qnewxxx",
        "category": "Institutional",
        "source": "me",
        "date": "2025-01-01",
    }
    path = tmp_path / "book.json"
    path.write_text(json.dumps([moved, extra]))
    book = load(path)
    assert book.category_of("gemini") == "institutional"
    assert {e.exchange for e in book.entries if e.address == kraken_first.address} == {"my-desk"}
    assert len(book.entries) == len(load().entries) + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "WINDVANE_ADDRESS_BOOK"),
        ('{"entries": {}}', "expected a list"),
        ('[{"exchange": "x", "address": "a", "category": "spot", "source": "s", "date": "d"}]', "category 'spot'"),
        ('[{"exchange": "x", "address": "a"}]', "lacks category, source, date"),
    ],
)
def test_malformed_user_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "book.json"
    path.write_text(content)
    with pytest.raises(AddressBookError, match=message):
        load(path)


@pytest.mark.anyio
async def test_malformed_user_file_degrades_to_the_packaged_book(make_client, tmp_path: Path) -> None:
    from tests.conftest import make_settings

    path = tmp_path / "book.json"
    path.write_text("not json")
    async with make_client(settings_=make_settings(tmp_path, address_book_path=path)) as client:
        result = await client.call_tool("exchange_reserve_trend", {})
    out = result.structured_content
    assert not result.is_error
    assert any(w.startswith("user address book ignored") for w in out["warnings"])
    assert out["coverage"]["addresses_total"] == len(load().entries)


def test_setting_reads_windvane_address_book() -> None:
    from server.settings import load_settings

    assert load_settings({}).address_book_path is None
    assert load_settings({"WINDVANE_ADDRESS_BOOK": " /tmp/book.json "}).address_book_path == Path("/tmp/book.json")
