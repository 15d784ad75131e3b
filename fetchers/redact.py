"""Masking configured secrets by value: the one `Redactor` every boundary that text leaves through applies.

A secret can come back in a form other than the one sent: an upstream quoting the key in its error body, a logged URL
with the key percent-encoded, a header echoed base64-encoded, a JSON document escaping it. The redactor knows each of
those forms and replaces any of them with `MASK` in one regular-expression pass.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
# A shorter value would mask ordinary words and digits; real keys and tokens are far longer (and a public bind
# refuses a short token: server/http_app.py).
MIN_SECRET_CHARS = 6


def _forms(secret: str) -> set[str]:
    """Every spelling of `secret` that text leaving windvane may carry."""
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    b64url = base64.urlsafe_b64encode(raw).decode()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms |= {b64, b64.rstrip("="), b64url, b64url.rstrip("=")}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Masks every form of the secrets it was built from. Immutable: `with_secrets` returns a new one."""

    __slots__ = ("_forms", "_pattern", "secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: frozenset[str] = frozenset(s for s in secrets if s and len(s) >= MIN_SECRET_CHARS)
        # Longest first: a secret that contains another is masked whole.
        self._forms = tuple(sorted({form for s in self.secrets for form in _forms(s)}, key=len, reverse=True))
        self._pattern = re.compile("|".join(map(re.escape, self._forms))) if self._forms else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor([*self.secrets, *secrets])

    def found_in(self, text: str) -> bool:
        # Substring tests: about twice as fast as the alternation's search on a clean result (the usual case).
        return any(form in text for form in self._forms)

    def mask(self, text: str) -> str:
        if self._pattern is None or not self.found_in(text):
            return text
        return self._pattern.sub(MASK, text)


_parsing_with: ContextVar[Redactor | None] = ContextVar("windvane_parsing_redactor", default=None)


@contextmanager
def masking_while_parsing(redactor: Redactor) -> Iterator[None]:
    """While a parser runs: `mask_upstream_text` masks with `redactor` (set by the HTTP layer around each parse)."""
    token = _parsing_with.set(redactor)
    try:
        yield
    finally:
        _parsing_with.reset(token)


def mask_upstream_text(text: str) -> str:
    """An upstream's own words with the configured secrets masked, before a parser truncates them: a key cut in
    half at the truncation point would no longer be recognised whole."""
    redactor = _parsing_with.get()
    return text if redactor is None else redactor.mask(text)
