"""Errors raised by fetchers. Their messages are safe to show a model: no keys, no query strings, no full URLs.

    UpstreamError                 an upstream could not give a usable answer (source, clean message)
     ├── UnavailableError         timeout, 5xx, a dropped connection, or no data where data was expected
     │    ├── UnreachableError    no route to the host: DNS, connection refused, proxy, TLS, connect timeout
     │    ├── DeadlineExceeded    the call's deadline came before the answer ("not answered within 15 s")
     │    ├── NotRetried          a 4xx that retrying will not fix (bad request, not found)
     │    │    └── KeyRejectedError   HTTP 401: the configured key was refused
     │    └── NotConfiguredError  a keyed source with no key configured (never tried)
     ├── RateLimitedError         429/418; carries retry_after_s when the upstream said
     ├── GeoBlockedError          451, or 403 from a venue known to block by region / a Cloudflare challenge
     └── BadPayloadError          the body did not match the documented format (drift, HTML instead of JSON, ...)

Tools catch UpstreamError per signal and turn it into `null` + a warning; they never let it end a whole answer.
"""

from __future__ import annotations

from collections.abc import Callable


class UpstreamError(Exception):
    kind = "upstream_error"
    remembered = False  # True on a copy served from memory (an open circuit, a recent failure): not asked again

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message

    def again(self, message: str) -> UpstreamError:
        """The same failure, told again with another message (a remembered error served from the breaker)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)  # keeps subclass fields (retry_after_s)
        Exception.__init__(clone, f"{self.source}: {message}")
        clone.message = message
        clone.remembered = True
        return clone

    def masked(self, mask: Callable[[str], str]) -> UpstreamError:
        """This failure with `mask` applied to its message (configured secrets an upstream quoted back); itself
        when nothing changes."""
        message = mask(self.message)
        if message == self.message:
            return self
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        Exception.__init__(clone, f"{self.source}: {message}")
        clone.message = message
        return clone


class UnavailableError(UpstreamError):
    kind = "unavailable"


class UnreachableError(UnavailableError):
    kind = "unreachable"


class DeadlineExceeded(UnavailableError):
    kind = "unavailable"


class NotRetried(UnavailableError):
    """A 4xx that retrying will not fix (bad request, not found)."""


class KeyRejectedError(NotRetried):
    kind = "key_rejected"


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
