"""A real HTTP server on loopback that plays an organizer's webhook endpoint."""

import http.server
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class ReceivedRequest:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats), after
    ``answer_after_seconds``, and keeps every request. Use as a context manager; ``url``
    is where it listens."""

    statuses: list = field(default_factory=lambda: [200])
    headers_for: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    answer_after_seconds: float = 0.0  # a slow endpoint

    def __enter__(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(ReceivedRequest(self.path, dict(self.headers), body))
                    index = min(len(receiver.requests), len(receiver.statuses)) - 1
                    status = receiver.statuses[index]
                time.sleep(receiver.answer_after_seconds)
                self.send_response(status)
                for name, value in receiver.headers_for.get(status, {}).items():
                    self.send_header(name, value)
                answer = b"ok" if status < 300 else b"not now"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/placard"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
