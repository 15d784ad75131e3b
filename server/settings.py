"""Settings read once from the environment at start-up.

Every upstream has a default public base URL that `WINDVANE_<SOURCE>_BASE_URL` overrides (a mirror, a proxy, a test
double). Keys come only from `WINDVANE_<SOURCE>_API_KEY` and are sent in headers by the fetchers, never in URLs.
This module imports nothing heavy: the CLI reads settings before deciding what to load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fetchers.redact import Redactor

# Source name -> default base URL. The fetcher appends the real API's exact path and query to the base.
DEFAULT_BASE_URLS: dict[str, str] = {
    "coinbase": "https://api.exchange.coinbase.com",
    "binance": "https://api.binance.com",
    "binance_futures": "https://fapi.binance.com",
    "okx": "https://www.okx.com",
    "kraken": "https://api.kraken.com",
    "bitstamp": "https://www.bitstamp.net",
    "bybit": "https://api.bybit.com",
    "deribit": "https://www.deribit.com",
    "farside": "https://farside.co.uk",
    "sosovalue": "https://openapi.sosovalue.com",
    "coinglass": "https://open-api-v4.coinglass.com",
    "cryptoquant": "https://api.cryptoquant.com",
    "fred": "https://fred.stlouisfed.org",
    "fred_api": "https://api.stlouisfed.org",
    "yahoo": "https://query1.finance.yahoo.com",
    "kalshi": "https://api.elections.kalshi.com",
    "polymarket": "https://gamma-api.polymarket.com",
    "polymarket_clob": "https://clob.polymarket.com",
    "coingecko": "https://api.coingecko.com",
    "coinpaprika": "https://api.coinpaprika.com",
    "mempool": "https://mempool.space",
    "blockstream": "https://blockstream.info",
    "alternative_me": "https://api.alternative.me",
    "defillama": "https://api.llama.fi",
    # WebSocket streams (`windvane collect` only); the stream path is appended like any other path. Binance split
    # USD-M futures streams into /public, /market and /private on 2026-03-06 and retired the bare /ws paths on
    # 2026-04-23; forceOrder is regular market data, so it lives under /market.
    "binance_futures_ws": "wss://fstream.binance.com/market",
    "bybit_ws": "wss://stream.bybit.com",
}

# Sources whose key unlocks them or raises limits. FRED's key is for its JSON API; the CSV export is keyless.
KEYED_SOURCES: tuple[str, ...] = ("sosovalue", "coinglass", "cryptoquant", "fred")

DEFAULT_ETF_IMPACT_PCT_PER_BUSD = 3.4
# Seconds `windvane collect` listens to the liquidation streams each round (extended to 2 s past the next minute
# boundary, since only whole minutes are recorded); 0 turns the streams off.
DEFAULT_LIQUIDATION_STREAM_S = 120.0
# MCP clients give up at about 60 s (the inspector: "Request timed out after 1m00s"): answer well before, with what
# came back. The assessment waits for its sub-tools' deadlines, then scores: it gets a little longer.
DEFAULT_TOOL_DEADLINE_S = 15.0
ASSESS_EXTRA_DEADLINE_S = 5.0
DEFAULT_REFRESH_EVERY_S = 300.0
DEFAULT_WALLET_SCAN_DELAY_S = 0.25
# A fleet's leader (the collector, the background refresher) holds its lease this long without a heartbeat; a standby
# takes over within it when the leader dies.
DEFAULT_LEASE_S = 15.0


class SettingsError(ValueError):
    """A setting in the environment is malformed; the message names the variable and what it accepts."""


@dataclass(frozen=True)
class Settings:
    base_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))
    api_keys: Mapping[str, str] = field(default_factory=dict)
    db_path: Path | None = None
    http_token: str | None = None
    http_timeout_s: float = 10.0
    http_retries: int = 2
    retry_base_delay_s: float = 0.5
    # A Retry-After beyond this is not waited out inside a tool call; the last good value is served instead.
    retry_after_cap_s: float = 10.0
    ttl_scale: float = 1.0
    allowed_hosts: tuple[str, ...] = ()
    # MCP requests are small JSON-RPC messages; anything bigger is a mistake or an attack (413).
    http_max_body_bytes: int = 256 * 1024
    # A client gets this long to send a request's headers, and this long for its body (408 past it): a slow or
    # stalled client holds a connection no longer than that.
    http_header_timeout_s: float = 10.0
    http_body_timeout_s: float = 10.0
    # Stateless by default so replicas need no session affinity; stateful keeps MCP sessions (SSE streams per session).
    http_stateful: bool = False
    etf_impact_pct_per_busd: float = DEFAULT_ETF_IMPACT_PCT_PER_BUSD
    # "compact": tools/list gives nested outputs as bare object/array types (small context); "full": every field.
    schema_detail: str = "compact"
    user_agent: str = "Mozilla/5.0 (compatible; windvane/0.1; +https://github.com/windvane)"
    # A JSON file of extra labelled exchange wallets for exchange_reserve_trend (WINDVANE_ADDRESS_BOOK).
    address_book_path: Path | None = None
    liquidation_stream_s: float = DEFAULT_LIQUIDATION_STREAM_S
    tool_deadline_s: float = DEFAULT_TOOL_DEADLINE_S
    # `windvane serve` refreshes in the background what a call would page through sequentially; 0 turns it off.
    refresh_every_s: float = DEFAULT_REFRESH_EVERY_S
    # Seconds `windvane collect` pauses after each labelled-wallet read (per worker; 4 at once).
    wallet_scan_delay_s: float = DEFAULT_WALLET_SCAN_DELAY_S
    # A fleet (deploy/): Redis shares the cache, single-flight, rate budgets and circuits between replicas;
    # PostgreSQL holds the shared history. Unset: one process, in-memory cache, SQLite (the default).
    redis_url: str | None = None
    database_url: str | None = None
    lease_s: float = DEFAULT_LEASE_S
    # WINDVANE_RATE_BUDGETS: a source (or budget name) -> its windows as (requests, seconds); () turns one off.
    rate_budgets: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @property
    def fleet(self) -> bool:
        """Several processes share state: only one of them collects and refreshes in the background."""
        return bool(self.redis_url or self.database_url)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret: the keys, the HTTP token, and the passwords in the fleet's Redis and PostgreSQL
        URLs. None of them may leave windvane in any text."""
        from urllib.parse import urlsplit

        passwords = [urlsplit(url).password for url in (self.redis_url, self.database_url) if url]
        return tuple(s for s in (*self.api_keys.values(), self.http_token, *passwords) if s)

    def redactor(self) -> Redactor:
        """The one redactor masking `secrets` wherever text leaves: tool results, resources, /healthz, logs, CLI."""
        from fetchers.redact import Redactor

        return Redactor(self.secrets)

    def base_url(self, source: str) -> str:
        try:
            return self.base_urls[source].rstrip("/")
        except KeyError:
            raise KeyError(f"unknown source {source!r}") from None

    def api_key(self, source: str) -> str | None:
        return self.api_keys.get(source)

    def resolved_db_path(self) -> Path:
        if self.db_path is not None:
            return self.db_path
        import platformdirs

        return Path(platformdirs.user_data_dir("windvane", appauthor=False)) / "windvane.sqlite3"


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be >= {minimum}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    base_urls = dict(DEFAULT_BASE_URLS)
    for source in DEFAULT_BASE_URLS:
        override = env.get(f"WINDVANE_{source.upper()}_BASE_URL", "").strip()
        if override:
            if not override.startswith(("http://", "https://", "ws://", "wss://")):
                raise SettingsError(
                    f"WINDVANE_{source.upper()}_BASE_URL must start with http:// or https://"
                    " (ws:// or wss:// for the streams)"
                )
            base_urls[source] = override.rstrip("/")
    api_keys = {
        source: key.strip()
        for source in KEYED_SOURCES
        if (key := env.get(f"WINDVANE_{source.upper()}_API_KEY", "")).strip()
    }
    schema_detail = env.get("WINDVANE_SCHEMA_DETAIL", "compact").strip().lower() or "compact"
    if schema_detail not in ("compact", "full"):
        raise SettingsError(f"WINDVANE_SCHEMA_DETAIL={schema_detail!r} must be 'compact' or 'full'")
    db_raw = env.get("WINDVANE_DB_PATH", "").strip()
    hosts = tuple(h.strip() for h in env.get("WINDVANE_ALLOWED_HOSTS", "").split(",") if h.strip())
    return Settings(
        base_urls=base_urls,
        api_keys=api_keys,
        db_path=Path(db_raw).expanduser() if db_raw else None,
        http_token=env.get("WINDVANE_HTTP_TOKEN", "").strip() or None,  # whitespace is no token
        http_timeout_s=_float(env, "WINDVANE_HTTP_TIMEOUT", 10.0, minimum=0.1),
        http_retries=int(_float(env, "WINDVANE_HTTP_RETRIES", 2)),
        retry_base_delay_s=_float(env, "WINDVANE_RETRY_BASE_DELAY", 0.5),
        retry_after_cap_s=_float(env, "WINDVANE_RETRY_AFTER_CAP", 10.0),
        ttl_scale=_float(env, "WINDVANE_TTL_SCALE", 1.0),
        allowed_hosts=hosts,
        http_stateful=env.get("WINDVANE_HTTP_STATEFUL", "").strip().lower() in ("1", "true", "yes"),
        http_max_body_bytes=int(_float(env, "WINDVANE_HTTP_MAX_BODY_BYTES", 256 * 1024, minimum=1024)),
        http_header_timeout_s=_float(env, "WINDVANE_HTTP_HEADER_TIMEOUT_S", 10.0, minimum=0.1),
        http_body_timeout_s=_float(env, "WINDVANE_HTTP_BODY_TIMEOUT_S", 10.0, minimum=0.1),
        schema_detail=schema_detail,
        etf_impact_pct_per_busd=_float(env, "WINDVANE_ETF_IMPACT_PCT_PER_BUSD", DEFAULT_ETF_IMPACT_PCT_PER_BUSD),
        address_book_path=Path(book).expanduser() if (book := env.get("WINDVANE_ADDRESS_BOOK", "").strip()) else None,
        liquidation_stream_s=_float(env, "WINDVANE_LIQUIDATION_STREAM_SECONDS", DEFAULT_LIQUIDATION_STREAM_S),
        tool_deadline_s=_deadline(env),
        refresh_every_s=_float(env, "WINDVANE_REFRESH_EVERY_S", DEFAULT_REFRESH_EVERY_S),
        wallet_scan_delay_s=_float(env, "WINDVANE_WALLET_SCAN_DELAY_S", DEFAULT_WALLET_SCAN_DELAY_S),
        redis_url=_url(env, "WINDVANE_REDIS_URL", ("redis://", "rediss://", "unix://")),
        database_url=_url(env, "WINDVANE_DATABASE_URL", ("postgresql://", "postgres://")),
        lease_s=_float(env, "WINDVANE_LEASE_S", DEFAULT_LEASE_S, minimum=2.0),
        rate_budgets=_rate_budgets(env.get("WINDVANE_RATE_BUDGETS", "")),
    )


_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate_budgets(raw: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """`coinbase=8/1s+400/1m,cryptoquant=50/1d,okx=off` -> {source: ((8, 1), (400, 60)), ...}."""
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, sep, spec = item.rpartition("=")
        bad = SettingsError(
            f"WINDVANE_RATE_BUDGETS item {item!r}: use SOURCE=REQUESTS/WINDOW[+...] with WINDOW like 1s, 2s, 1m, 5m, "
            "1d (e.g. cryptoquant=50/1d), or SOURCE=off"
        )
        if not (sep and name.strip()):
            raise bad
        windows: list[tuple[int, int]] = []
        for window in spec.split("+") if spec.strip().lower() != "off" else []:
            amount, slash, per = window.strip().partition("/")
            count, unit = per[:-1], per[-1:].lower()
            if not (slash and amount.isdigit() and int(amount) > 0 and count.isdigit() and unit in _WINDOW_UNITS):
                raise bad
            windows.append((int(amount), int(count) * _WINDOW_UNITS[unit]))
        out[name.strip()] = tuple(windows)
    return out


# The clients a fleet setting needs (the `fleet` extra); checked at start-up, so a missing one is a clear message.
_FLEET_MODULES = {"WINDVANE_REDIS_URL": ("redis", "limits"), "WINDVANE_DATABASE_URL": ("asyncpg",)}


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(schemes):
        # never echo the value: a URL may carry a password
        raise SettingsError(f"{name} must start with {' or '.join(schemes)}")
    import importlib.util

    missing = [m for m in _FLEET_MODULES[name] if importlib.util.find_spec(m) is None]
    if missing:
        raise SettingsError(f"{name} needs {', '.join(missing)}: pip install 'windvane[fleet]'")
    return raw


def _deadline(env: Mapping[str, str]) -> float:
    seconds = _float(env, "WINDVANE_TOOL_DEADLINE_S", DEFAULT_TOOL_DEADLINE_S, minimum=0.5)
    if seconds + ASSESS_EXTRA_DEADLINE_S > 55:
        raise SettingsError(
            f"WINDVANE_TOOL_DEADLINE_S={seconds:g} leaves no margin: MCP clients give up at about 60 s; use at most "
            f"{55 - ASSESS_EXTRA_DEADLINE_S:g}"
        )
    return seconds
