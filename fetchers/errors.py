"""Errors raised by fetchers. Their messages are safe to show a model: no keys, no query strings, no full URLs.

    UpstreamError                 an upstream could not give a usable answer (source, clean message)
     ├── UnavailableError         timeout, connection failure, 5xx, or no data where data was expected
     │    └── NotConfiguredError  a keyed source with no key configured (never tried)
     ├── RateLimitedError         429/418; carries retry_after_s when the upstream said
     ├── GeoBlockedError          451, or 403 from a venue known to block by region / a Cloudflare challenge
     └── BadPayloadError          the body did not match the documented format (drift, HTML instead of JSON, ...)

Tools catch UpstreamError per signal and turn it into `null` + a warning; they never let it end a whole answer.
"""

from __future__ import annotations


class UpstreamError(Exception):
    kind = "upstream_error"

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class UnavailableError(UpstreamError):
    kind = "unavailable"


class NotConfiguredError(UnavailableError):
    kind = "not_configured"


class RateLimitedError(UpstreamError):
    kind = "rate_limited"

    def __init__(self, source: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(source, message)
        self.retry_after_s = retry_after_s


class GeoBlockedError(UpstreamError):
    kind = "geo_blocked"


class BadPayloadError(UpstreamError):
    kind = "bad_payload"
