"""A real SMTP server on loopback that keeps what it receives, for tests.

The app talks to it over an ordinary SMTP connection, so the whole sending
path (connection handling, envelope, MIME encoding) is exercised. Tests can
also make it refuse a recipient to drive the transient/permanent failure
handling.
"""

from __future__ import annotations

import contextlib
import email
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from .services import free_port

__all__ = ["ReceivedMessage", "SmtpSink"]


class ReceivedMessage(EmailMessage):
    """An EmailMessage that also remembers its SMTP envelope.

    ``envelope_to`` matters for Bcc-style sends, where the recipients
    never appear in the headers.
    """

    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()


@dataclass
class _Failure:
    code: int
    text: str
    stage: str
    remaining: int | None  # None: every attempt until clear()

    def reply(self) -> str:
        return f"{self.code} {self.text}"


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = self._sink._take_failure(address, "rcpt")
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            failure = self._sink._take_failure(address, "data")
            if failure is not None:
                return failure
        self._sink._record(envelope)
        return "250 Message accepted for delivery"


class SmtpSink:
    """SMTP server on 127.0.0.1 that stores every accepted message.

    Use as ``with SmtpSink() as sink:`` or call ``start()``/``stop()``.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port: int | None = None
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._controller: Controller | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> SmtpSink:
        if self._controller is not None:
            return self
        last_error: Exception | None = None
        # A probed free port can be taken before aiosmtpd binds it.
        for _ in range(3):
            port = free_port()
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=port,
                # The default is socket.getfqdn(), which can stall on hosts
                # with slow reverse DNS.
                server_hostname="localhost",
                # The app may send internationalised addresses.
                enable_SMTPUTF8=True,
                ready_timeout=10,
            )
            try:
                controller.start()
            except Exception as exc:  # aiosmtpd raises several kinds here
                last_error = exc
                with contextlib.suppress(Exception):
                    controller.stop(no_assert=True)
                    controller.loop.close()
                continue
            self._controller = controller
            self.port = port
            return self
        raise RuntimeError(f"SMTP sink could not start on 127.0.0.1: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------ results

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Snapshot of the messages accepted so far, oldest first."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget received messages and any pending failures."""
        with self._lock:
            self._messages.clear()
            self._failures.clear()

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        """Messages whose envelope includes ``address`` (case-insensitive)."""
        wanted = address.lower()
        return [m for m in self.messages if wanted in (r.lower() for r in m.envelope_to)]

    def wait_for(
        self,
        predicate: Callable[[ReceivedMessage], bool] | None = None,
        timeout: float = 15,
    ) -> ReceivedMessage:
        """First message matching ``predicate`` (any message if None).

        Delivery happens in a Celery worker, so tests poll rather than
        expecting the message right after the HTTP request returns.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self.messages
            for message in seen:
                if predicate is None or predicate(message):
                    return message
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        summary = "\n".join(f"  - {m['Subject']!r} to {', '.join(m.envelope_to)}" for m in seen) or "  (none)"
        raise AssertionError(f"no matching email arrived within {timeout}s; received {len(seen)}:\n{summary}")

    # ----------------------------------------------------------------- failures

    def fail_next(
        self,
        address: str,
        code: int = 451,
        text: str = "try later",
        *,
        times: int | None = 1,
        stage: str = "rcpt",
    ) -> None:
        """Answer ``code text`` for ``address`` on its next ``times`` deliveries.

        4xx codes model transient failures, 5xx permanent ones. ``times=None``
        keeps failing until :meth:`clear`. ``stage`` picks where the error is
        given: ``"rcpt"`` (RCPT TO, refusing just that recipient) or
        ``"data"`` (after the message body, failing the whole transaction).
        """
        if stage not in ("rcpt", "data"):
            raise ValueError(f"stage must be 'rcpt' or 'data', not {stage!r}")
        if not 400 <= code <= 599:
            raise ValueError(f"SMTP failure codes are 4xx or 5xx, not {code}")
        failure = _Failure(code=code, text=text, stage=stage, remaining=times)
        with self._lock:
            self._failures.setdefault(address.lower(), []).append(failure)

    def _take_failure(self, address: str, stage: str) -> str | None:
        with self._lock:
            queue = self._failures.get(address.lower(), [])
            for failure in queue:
                if failure.stage != stage:
                    continue
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        queue.remove(failure)
                return failure.reply()
        return None

    def _record(self, envelope) -> None:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        # Wire format uses CRLF; tests compare bodies against plain "\n" text.
        raw = raw.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(raw, _class=ReceivedMessage, policy=default_policy)
        message.envelope_from = envelope.mail_from or ""
        message.envelope_to = tuple(envelope.rcpt_tos)
        with self._lock:
            self._messages.append(message)
