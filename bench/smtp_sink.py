"""An SMTP server on loopback that only counts: what bench/mailing.py sends to.

Run as ``python bench/smtp_sink.py PORT STATS_FILE``. Every half second it writes
to STATS_FILE the messages received, the distinct recipients and the distinct
Message-IDs, so the benchmark can check that each message arrived exactly once.
"""

import json
import os
import re
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    def __init__(self):
        self.messages = 0
        self.recipients = set()
        self.message_ids = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        header_end = envelope.original_content.find(b"\r\n\r\n")
        match = _MESSAGE_ID.search(envelope.original_content[:header_end])
        with self.lock:
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
            if match:
                self.message_ids.add(match.group(1))
        return "250 OK"

    def stats(self):
        with self.lock:
            return {"messages": self.messages, "recipients": len(self.recipients),
                    "message_ids": len(self.message_ids)}

    def reset(self):
        with self.lock:
            self.messages = 0
            self.recipients.clear()
            self.message_ids.clear()


def main():
    port, stats_path = int(sys.argv[1]), sys.argv[2]
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="localhost",
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # SIGUSR1 starts the count again, between the benchmark's phases.
    signal.signal(signal.SIGUSR1, lambda *_: handler.reset())
    try:
        while not stop.wait(0.5):
            temporary = stats_path + ".tmp"
            with open(temporary, "w") as file:
                json.dump(handler.stats(), file)
            os.replace(temporary, stats_path)
    finally:
        controller.stop()


if __name__ == "__main__":
    time.sleep(0)
    main()
