"""Sending a mailing's messages in batches, over one connection per batch.

Each message is handed over in a way that makes a crash cost no message and send
none twice: once the message's content has gone to the server, the delivery's
mark "sent" is committed and the final "." that completes the message is written
at the same moment (the COMMIT is in flight while the "." is written; see
:func:`campaign.db.commit_alongside`). If the worker dies before that, the server
never receives the end of the message and discards it, and the delivery is sent
again; after it, both the mark and the "." have left the process and the kernel
delivers them. (Sending first and marking after leaves a window of a round trip
and a commit in which a crash sends the message twice; marking first and
sending after, one in which a crash loses it.)
"""

import os
import smtplib
import socket
import tempfile
from pathlib import Path

from campaign.mail.transport import PermanentMailError, TransientMailError, classify_smtp_answer


class ConnectionFailed(TransientMailError):
    """The server could not be reached at all: nothing was attempted."""


class Abandoned(Exception):
    """The delivery was no longer ours to send (unsubscribed, paused, claimed elsewhere)."""


class SmtpBatch:
    def __init__(self, config):
        self.host, self.port = config["SMTP_HOST"], config["SMTP_PORT"]
        self.username, self.password = config["SMTP_USERNAME"], config["SMTP_PASSWORD"]
        self.starttls, self.timeout = config["SMTP_STARTTLS"], config["SMTP_TIMEOUT"]
        self.smtp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _connect(self):
        try:
            self.smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            # The message and its final "." go out as two writes (see the module's
            # docstring); without this, Nagle's algorithm holds the "." back until the
            # server's delayed ACK, some 40 ms per message.
            self.smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.starttls:
                self.smtp.starttls()
            if self.username:
                self.smtp.login(self.username, self.password)
            self.smtp.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException) as error:
            self.smtp = None
            raise ConnectionFailed(f"connection to {self.host}:{self.port} failed: {error}") from error

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def _drop(self):
        """Close without finishing the message in progress: the server discards it."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def send(self, payload, sender, recipient, hand_over, name):
        """Send ``payload`` (the message's bytes, CRLF line ends). At the point of no
        return, ``hand_over(write_end)`` marks the delivery sent and calls ``write_end()``
        as it commits, or returns False (without calling it) if the delivery is no
        longer ours. Raises TransientMailError, PermanentMailError (with the server's
        answer) or Abandoned."""
        if self.smtp is None:
            self._connect()
        smtp = self.smtp
        try:
            options = ["SMTPUTF8"] if not recipient.isascii() and smtp.has_extn("smtputf8") else []
            for command in (lambda: smtp.mail(sender, options), lambda: smtp.rcpt(recipient)):
                code, answer = command()
                if code not in (250, 251):
                    smtp.rset()
                    raise classify_smtp_answer(code, answer)
            code, answer = smtp.docmd("DATA")
            if code != 354:
                smtp.rset()
                raise classify_smtp_answer(code, answer)
            payload = smtplib._quote_periods(payload)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            smtp.send(payload)
            if not hand_over(lambda: smtp.send(b".\r\n")):
                self._drop()
                raise Abandoned()
            code, answer = smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self._drop()
            raise TransientMailError(f"connection to {self.host}:{self.port} lost: {error}") from error
        if code != 250:
            raise classify_smtp_answer(code, answer)


class FolderBatch:
    """The embedded mode's batch: each message an .eml file in the outbox folder."""

    def __init__(self, config):
        self.folder = Path(config["OUTBOX_DIR"])

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info):
        pass

    def send(self, payload, sender, recipient, hand_over, name):
        if not hand_over(lambda: None):
            raise Abandoned()
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
        os.replace(temporary, self.folder / f"{name}.eml")


def batch_transport_for(config):
    return FolderBatch(config) if config["MAIL_TRANSPORT"] == "outbox" else SmtpBatch(config)


__all__ = ["Abandoned", "ConnectionFailed", "FolderBatch", "PermanentMailError", "SmtpBatch",
           "TransientMailError", "batch_transport_for"]
