"""Time and size limits for HTTP clients, so a slow or vanished client holds nothing for long.

- Headers: `BoundedH11` is uvicorn's h11 protocol with a deadline for a request's headers. uvicorn has none: its
  keep-alive timer starts only after a first response and any byte received cancels it, so a client trickling a
  header byte at a time (or sending nothing) would hold its connection for ever.
- Body: `BodyLimits` reads the whole request body before the app sees it, within a deadline and a size limit:
  408 for a body that does not arrive in time, 413 for one too large, and a client that hangs up mid-body is one
  INFO line, never a 500 with a traceback. The app then gets the buffered body at once.
"""

from __future__ import annotations

import asyncio
import logging

import anyio
import h11
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("windvane.http_server")


class ClientGone(Exception):
    """The client hung up before its request was complete."""


class BodyLimits:
    def __init__(self, app: ASGIApp, *, timeout_s: float, max_bytes: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            with anyio.fail_after(self.timeout_s):
                body = await self._read(receive)
        except TimeoutError:
            await _refuse(scope, send, 408, f"the request body did not arrive within {self.timeout_s:g} s")
            return
        except ClientGone:  # RequestLog logs it, as its one line for this request
            scope.setdefault("state", {})["client_gone"] = True
            return
        if body is None:
            await _refuse(scope, send, 413, f"the request body is larger than {self.max_bytes} bytes")
            return
        replayed = False

        async def buffered() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect a streaming response waits for

        await self.app(scope, buffered, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes `max_bytes` (the rest is not read)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    error = "request_timeout" if status == 408 else "payload_too_large"
    response = JSONResponse({"error": error, "message": message}, status_code=status, headers={"Connection": "close"})
    await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class BoundedH11(H11Protocol):
    """h11 with a deadline for each request's headers: from the connection's start, or on a kept-alive connection
    from the first byte of the next request (while idle, uvicorn's keep-alive timer closes it)."""

    header_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in: the body has its own limit (BodyLimits)
        elif self._header_timer is None:
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        log.info(
            "closed a connection whose request headers took over %g s",
            self.header_timeout_s,
            extra={"client": self.client[0] if self.client else "?"},
        )
        self.transport.close()


def bounded_h11(header_timeout_s: float) -> type[BoundedH11]:
    """The protocol class uvicorn is given (`http=`), with this deadline for request headers."""
    return type("BoundedH11", (BoundedH11,), {"header_timeout_s": header_timeout_s})
