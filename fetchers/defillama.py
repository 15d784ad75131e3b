"""DefiLlama's CEX pages (keyless): the BTC each exchange's labelled wallets hold, day by day.

GET https://api.llama.fi/protocol/<slug> answers one JSON object per protocol. What this module relies on, and where
it was read (DefiLlama/defillama-server, public):
- The object is built by `craftProtocolV2` (defi/src/api2/utils/craftProtocolV2.ts): the protocol's metadata, then
  `chainTvls`, `tvl`, `tokensInUsd`, `tokens`, `chains`, `currentChainTvls`, `raises`, `mcap`, ... in that order.
  `chainTvls[<chain display name>]` is `{tvl: [{date, totalLiquidityUSD}], tokensInUsd: [{date, tokens}],
  tokens: [{date, tokens}]}`; in `tokens` each `tokens` maps a symbol to the amount held (not US$), rounded to 5
  decimals (`normalizeEthereum`, defi/src/utils/craftProtocol.ts).
- `date` is unix seconds: the daily rows' keys are `getTimestampAtStartOfDay` (00:00 UTC) and the row of a day is
  the first hourly reading of that day (`findOrCreate`, never overwritten: defi/src/storeTvlInterval/
  storeNewTvl2.ts, defi/src/api2/db/index.ts). The latest hourly reading is appended last, at its own time.
- Coin keys become symbols through defi/src/utils/symbols/symbols.json (`"bitcoin": "BTC"`; wrapped coins are
  "WBTC", "BTCB" and live on other chains), so the Bitcoin chain's native coin is `chainTvls.Bitcoin.tokens[].tokens
  .BTC`. Bitcoin's display name is "Bitcoin" (the `chains` of "Binance CEX" list "Bitcoin").
- The route (defi/src/api2/routes/index.ts, `/protocol/:name`) sluggifies the name (case-insensitive) and, for a
  protocol of category CEX, never withholds the token breakdown; `restrictResponseSize=false` asks for it anyway,
  since with restriction a large response gets `tokens: null`.
- CEX slugs are those of `cexsData` (defi/src/getCexs.ts): "Binance-CEX", "okx", "bitfinex", "Bybit", ... Coinbase
  has none there, and Kraken's entry is commented out.

Versions read (commit of the stored file): craftProtocolV2.ts 0bd5b872, craftProtocol.ts 053f8844, storeNewTvl2.ts
03761aaf, api2/db/index.ts and symbols.json 03d39bfa, getCexs.ts 08e7e1d4.

The Binance page is tens of MB: the body is streamed through ijson's push parser and only `chainTvls.Bitcoin.tokens`
becomes Python objects; once that array has closed, the rest of the body is not downloaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import ijson

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http

SOURCE = "defillama"
CHAIN = "Bitcoin"
SYMBOL = "BTC"
TOKENS_PATH = f"chainTvls.{CHAIN}.tokens"
TTL_S = 3600.0  # DefiLlama records an hourly reading; a page is not refetched within the hour
CHUNK_BYTES = 64 * 1024
PARAMS = {"restrictResponseSize": "false"}


@dataclass(frozen=True, slots=True)
class Holding:
    at: datetime  # the reading's time: 00:00 UTC for a daily row, the hour for the latest one
    btc: float


@dataclass(frozen=True)
class BtcSeries:
    """One exchange's BTC on the Bitcoin chain as DefiLlama recorded it, oldest first."""

    slug: str
    holdings: tuple[Holding, ...]
    rows_without_btc: int  # rows listing other Bitcoin-chain tokens but no BTC: no figure that day, not zero


class TokensParser:
    """Incremental: `feed` bytes as they arrive until it returns True, then `finish` for the validated series."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self._found: list[Any] = ijson.sendable_list()
        self._coro = ijson.items_coro(self._found, TOKENS_PATH, use_float=True)
        self._started = False

    def feed(self, chunk: bytes) -> bool:
        """True once `chainTvls.Bitcoin.tokens` is complete (the rest of the document is not needed)."""
        if not self._started:
            head = chunk.lstrip()
            if not head:
                return False
            if head[:1] == b"<":
                raise BadPayloadError(SOURCE, f"{self.slug}: expected JSON but received an HTML page")
            self._started = True
        try:
            self._coro.send(chunk)
        except ijson.JSONError as exc:
            raise BadPayloadError(SOURCE, f"{self.slug}: malformed JSON ({_one_line(exc)})") from None
        return bool(self._found)

    def finish(self) -> BtcSeries:
        if not self._found:
            try:
                self._coro.close()  # raises on a truncated document
            except ijson.JSONError as exc:
                raise BadPayloadError(SOURCE, f"{self.slug}: truncated or malformed JSON ({_one_line(exc)})") from None
            if not self._found:
                raise BadPayloadError(SOURCE, f"{self.slug}: the response has no {TOKENS_PATH}")
        return series_from_rows(self.slug, self._found[0])


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]


def _number(slug: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadPayloadError(SOURCE, f"{slug}: {what}: expected a number, got {str(value)[:40]!r}")
    return float(value)


def series_from_rows(slug: str, rows: Any) -> BtcSeries:
    """Validate `chainTvls.Bitcoin.tokens` strictly: drift is a BadPayloadError, never a shifted or partial series."""
    if rows is None:
        raise BadPayloadError(SOURCE, f"{slug}: {TOKENS_PATH} is null (DefiLlama withheld the token breakdown)")
    if not isinstance(rows, list):
        raise BadPayloadError(SOURCE, f"{slug}: {TOKENS_PATH}: expected a list, got {type(rows).__name__}")
    holdings: list[Holding] = []
    without_btc = 0
    previous: float | None = None
    for i, row in enumerate(rows):
        where = f"{TOKENS_PATH}[{i}]"
        if not isinstance(row, dict) or "date" not in row or "tokens" not in row:
            raise BadPayloadError(SOURCE, f"{slug}: {where}: expected {{date, tokens}}, got {str(row)[:60]!r}")
        stamp = _number(slug, row["date"], f"{where}.date")
        if stamp != int(stamp) or stamp <= 0:
            raise BadPayloadError(SOURCE, f"{slug}: {where}.date: expected unix seconds, got {row['date']!r}")
        if previous is not None and stamp <= previous:
            raise BadPayloadError(SOURCE, f"{slug}: {where}.date {int(stamp)} is not after {int(previous)}")
        previous = stamp
        tokens = row["tokens"]
        if not isinstance(tokens, dict):
            raise BadPayloadError(SOURCE, f"{slug}: {where}.tokens: expected an object, got {type(tokens).__name__}")
        if SYMBOL not in tokens:
            without_btc += 1
            continue
        btc = _number(slug, tokens[SYMBOL], f"{where}.tokens.{SYMBOL}")
        if btc < 0:
            raise BadPayloadError(SOURCE, f"{slug}: {where}.tokens.{SYMBOL} is negative ({btc})")
        holdings.append(Holding(datetime.fromtimestamp(stamp, UTC), btc))
    if not holdings:
        raise BadPayloadError(SOURCE, f"{slug}: {TOKENS_PATH} has no {SYMBOL} amount in {len(rows)} rows")
    return BtcSeries(slug, tuple(holdings), without_btc)


async def _parse_stream(slug: str, response: httpx.Response) -> BtcSeries:
    parser = TokensParser(slug)
    async for chunk in response.aiter_bytes(CHUNK_BYTES):
        if parser.feed(chunk):
            break  # leaving the stream closes it: the rest of the page is never downloaded
    return parser.finish()


async def fetch_btc_series(http: Http, slug: str) -> Fetched[BtcSeries]:
    """The exchange's daily BTC holdings from its DefiLlama page (one request)."""
    return await http.get_streamed(
        SOURCE, f"/protocol/{slug}", partial(_parse_stream, slug), params=PARAMS, ttl_s=TTL_S
    )
