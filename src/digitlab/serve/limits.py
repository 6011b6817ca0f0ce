"""The request body bound, as plain ASGI middleware (FastAPI's own ``max_body_size`` is recent and answers in
plain text): a declared Content-Length over the bound is refused before a byte is read, and a body sent without
one (chunked) is counted as it arrives and refused once past it. Either way the answer is 413 with one sentence
in JSON, and the connection is closed, so the rest of an oversized body is never read."""

from __future__ import annotations

import json

MAX_BODY = 5 * 1024 * 1024  # bytes of request body: a phone photo of a digit fits; more is refused (413)


class _TooLarge(Exception):
    """Raised into the app from ``receive`` once a body passes the bound."""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413; every response also says ``nosniff``."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def sending(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception as exc:
            if started or not _caused_by_size(exc):
                raise
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": f"The request body is larger than the {self.limit / 2 ** 20:g} MB the "
                                     f"server accepts."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _caused_by_size(exc: BaseException) -> bool:
    """Whether ``exc`` is, wraps or groups the bound's signal (parsers may re-raise it as their own error)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _TooLarge):
            return True
        if isinstance(getattr(exc, "exceptions", None), tuple):  # an exception group (task groups raise them)
            return any(_caused_by_size(e) for e in exc.exceptions)
        exc = exc.__cause__ or exc.__context__
    return False
