"""Where sent mail goes: an SMTP server, or (embedded mode) a folder of .eml files."""

import os
import smtplib
import tempfile
from pathlib import Path


class TransientMailError(Exception):
    """The server may accept the message later (a 4xx answer, a dropped connection)."""


class PermanentMailError(Exception):
    """The server refused the message for good (a 5xx answer)."""


class SmtpTransport:
    def __init__(self, config):
        self.host = config["SMTP_HOST"]
        self.port = config["SMTP_PORT"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.starttls = config["SMTP_STARTTLS"]
        self.timeout = config["SMTP_TIMEOUT"]

    def send(self, message):
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            raise classify_smtp_answer(code, answer) from error
        except smtplib.SMTPResponseException as error:
            raise classify_smtp_answer(error.smtp_code, error.smtp_error) from error
        except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
            raise TransientMailError(f"connection to {self.host}:{self.port} failed: {error}") from error
        if refused:
            code, answer = next(iter(refused.values()))
            raise classify_smtp_answer(code, answer)


def classify_smtp_answer(code, answer):
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    text = f"{code} {answer}"
    return TransientMailError(text) if 400 <= code < 500 else PermanentMailError(text)


class OutboxFolderTransport:
    """Keeps each message as an .eml file, for the developer to read at /dev/mail."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def send(self, message):
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["X-Placard-Outbox-Id"].zfill(10) + ".eml"
        # Write then rename, so a reader never sees half a message.
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(bytes(message))
        os.replace(temporary, self.folder / name)


def transport_for(config):
    if config["MAIL_TRANSPORT"] == "outbox":
        return OutboxFolderTransport(config["OUTBOX_DIR"])
    return SmtpTransport(config)
