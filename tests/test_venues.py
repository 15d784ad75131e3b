"""The venue declarations: every venue is reachable through a configured base URL, and chains keep their order."""

from __future__ import annotations

from server.settings import DEFAULT_BASE_URLS
from tools.venues import BOOK_VENUES, PERP_VENUES, REFERENCE_VENUES, all_venues


def test_every_venue_name_is_a_configured_source() -> None:
    # The name is what a venue is called in answers and which WINDVANE_<NAME>_BASE_URL reaches it.
    assert {venue.name for venue in all_venues()} <= set(DEFAULT_BASE_URLS)


def test_chains_are_in_the_documented_order() -> None:
    assert [v.name for v in REFERENCE_VENUES] == ["binance", "okx", "kraken", "bitstamp"]
    assert [v.name for v in BOOK_VENUES] == ["coinbase", "kraken", "okx", "binance"]
    assert [v.name for v in PERP_VENUES] == ["binance_futures", "okx", "bybit"]
