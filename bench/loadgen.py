"""A small, CPU-frugal HTTP/1.1 load generator for the benchmarks in this folder.

Each generator process drives its share of the virtual users from one epoll
loop over non-blocking sockets: no thread switching, no GIL contention, and a
response parser that only looks at the status line, Content-Length,
Set-Cookie and Connection. Connections are kept alive; when the server closes
one (gunicorn's sync workers close after every response) the next request
opens a new connection, and the time to connect counts in its latency, as it
would for a browser.

Every run is bounded: a virtual user stops sending once the phase's time is
up or once it has sent ``max_requests``; requests still in flight then get
``GRACE_SECONDS`` to finish.

A virtual user is described by a plain dict so it crosses process boundaries:

    {"kind": "get", "path": "/campaigns/x"}
    {"kind": "sign", "slug": "some-petition", "tag": "bench-run-0-3"}
    {"kind": "post", "path": "/insert", "tag": "bench-run-0-3"}   # bare insert app

``sign`` users first GET the petition page (before the timed window) for the
session cookie and the form's CSRF token, then POST one signature after
another, each with a new email address ``<tag>-<n>@example.org``.
"""

import contextlib
import errno
import os
import re
import selectors
import socket
import time
from array import array
from urllib.parse import urlencode

GRACE_SECONDS = 10.0
CONNECT_TIMEOUT = 5.0
TOKEN_PATTERN = re.compile(rb'name="(p\d+)-csrf_token" type="hidden" value="([^"]+)"')


class ProtocolError(Exception):
    pass


def _header_value(head, name):
    """The value of header ``name`` (lower-case bytes) in a raw header block, or None."""
    lower = head.lower()
    start = lower.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    end = lower.find(b"\r\n", start)
    return head[start:end if end >= 0 else None].strip()


def _all_header_values(head, name):
    lower = head.lower()
    values, position = [], 0
    needle = b"\r\n" + name + b":"
    while True:
        start = lower.find(needle, position)
        if start < 0:
            return values
        start += len(needle)
        end = lower.find(b"\r\n", start)
        values.append(head[start:end if end >= 0 else None].strip())
        position = start


def parse_response(buffer):
    """``(status, head, body, consumed)`` once ``buffer`` holds a whole response, else None."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end])
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP response: {head[:40]!r}")
    status = int(head[9:12])
    body_start = head_end + 4
    length = _header_value(head, b"content-length")
    if length is not None:
        end = body_start + int(length)
        if len(buffer) < end:
            return None
        return status, head, bytes(buffer[body_start:end]), end
    encoding = _header_value(head, b"transfer-encoding")
    if encoding and encoding.lower() == b"chunked":
        body, position = bytearray(), body_start
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            chunk_start = line_end + 2
            if len(buffer) < chunk_start + size + 2:
                return None
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                return status, head, bytes(body), trailer_end + 4
            body += buffer[chunk_start:chunk_start + size]
            position = chunk_start + size + 2
    if status in (204, 304) or 100 <= status < 200:
        return status, head, b"", body_start
    raise ProtocolError("response without Content-Length is not supported")


def session_cookie(head, current):
    """The cookie header to send next, updated from any Set-Cookie in ``head``."""
    cookies = dict(item.split(b"=", 1) for item in current.split(b"; ") if b"=" in item) \
        if current else {}
    for value in _all_header_values(head, b"set-cookie"):
        pair = value.split(b";", 1)[0]
        if b"=" in pair:
            name, _, content = pair.partition(b"=")
            cookies[name.strip()] = content.strip()
    return b"; ".join(name + b"=" + content for name, content in cookies.items())


def build_request(method, path, host, cookie=b"", body=None, content_type=b""):
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host,
             b"User-Agent: placard-bench", b"Accept: text/html", b"Accept-Language: en"]
    if cookie:
        lines.append(b"Cookie: " + cookie)
    if body is not None:
        lines.append(b"Content-Type: " + content_type)
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def blocking_request(address, raw, timeout=30.0):
    """Send one request on a fresh connection and return ``(status, head, body)``."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(raw)
        buffer = bytearray()
        while True:
            parsed = parse_response(buffer)
            if parsed is not None:
                return parsed[:3]
            data = sock.recv(65536)
            if not data:
                raise ProtocolError("connection closed before a whole response")
            buffer += data


class VirtualUser:
    """One client: one connection at a time, one request in flight at a time."""

    def __init__(self, spec, address, host):
        self.spec = spec
        self.kind = spec["kind"]
        self.address = address
        self.host = host
        self.cookie = b""
        self.sent = 0
        self.sock = None
        self.buffer = bytearray()
        self.outgoing = b""
        self.started = 0.0
        self.prefix = None
        self.token = None
        self.fresh_connection = False

    # -- the requests this user sends ---------------------------------------------------
    def prepare(self):
        """Untimed set-up: for signers, the petition page's cookie and CSRF token."""
        if self.kind != "sign":
            return
        raw = build_request("GET", f"/petitions/{self.spec['slug']}", self.host)
        status, head, body = blocking_request(self.address, raw)
        if status != 200:
            raise ProtocolError(f"petition page answered {status}")
        match = TOKEN_PATTERN.search(body)
        if match is None:
            raise ProtocolError("no CSRF token found on the petition page")
        self.prefix, self.token = match.group(1).decode(), match.group(2).decode()
        self.cookie = session_cookie(head, b"")

    def next_request(self):
        self.sent += 1
        if self.kind == "get":
            return build_request("GET", self.spec["path"], self.host, self.cookie)
        email = f"{self.spec['tag']}-{self.sent}@example.org"
        if self.kind == "sign":
            p = self.prefix
            form = {f"{p}-csrf_token": self.token, f"{p}-first_name": "Ada",
                    f"{p}-last_name": "Lovelace", f"{p}-email": email,
                    f"{p}-postal_code": "M5V 2T6", f"{p}-country": "CA",
                    f"{p}-comment": "Peace now."}
            path = f"/petitions/{self.spec['slug']}/sign"
        else:
            form = {"first_name": "Ada", "last_name": "Lovelace", "email": email,
                    "postal_code": "M5V 2T6", "country": "CA", "comment": "Peace now."}
            path = self.spec["path"]
        return build_request("POST", path, self.host, self.cookie, urlencode(form).encode(),
                             b"application/x-www-form-urlencoded")

    def accepted(self, status, head):
        if self.kind == "sign":
            location = _header_value(head, b"location") or b""
            return status == 303 and location.endswith(b"/check-email")
        return 200 <= status < 300


def run_users(specs, address, start_at, seconds, max_requests, result_queue=None):
    """Drive ``specs`` until ``seconds`` after ``start_at`` (a time.time() value).

    Returns (and puts on ``result_queue`` if given) a dict of raw results:
    latencies in seconds, statuses, accepted count, errors, reconnects and
    this process's CPU seconds during the timed window.
    """
    host = f"{address[0]}:{address[1]}".encode()
    users = [VirtualUser(spec, address, host) for spec in specs]
    result = {"latencies": array("d"), "statuses": {}, "accepted": 0, "errors": {},
              "connections": 0, "cpu_seconds": 0.0, "elapsed": 0.0, "sent": 0, "bytes": 0}
    try:
        for user in users:
            user.prepare()
    except Exception as error:  # reported, not raised: the parent decides
        result["errors"]["setup: " + type(error).__name__ + ": " + str(error)[:200]] = 1
        if result_queue is not None:
            result_queue.put(_portable(result))
        return result

    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    selector = selectors.DefaultSelector()
    cpu_start = os.times()
    clock_start = time.perf_counter()
    deadline = clock_start + seconds
    hard_deadline = deadline + GRACE_SECONDS
    latencies = result["latencies"]
    statuses = result["statuses"]
    errors = result["errors"]
    active = 0

    def count_error(name):
        errors[name] = errors.get(name, 0) + 1

    def close(user):
        if user.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(user.sock)
            user.sock.close()
            user.sock = None

    def start_request(user, now):
        """Send the user's next request, connecting first if needed. False when done."""
        if now >= deadline or user.sent >= max_requests:
            close(user)
            return False
        user.started = time.perf_counter()
        user.buffer = bytearray()
        user.outgoing = user.next_request()
        user.fresh_connection = user.sock is None
        if user.sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                count_error(f"connect: {os.strerror(code)}")
                return False  # this user stops: the server is not accepting connections
            user.sock = sock
            result["connections"] += 1
            # On loopback the handshake has usually completed by now, even though
            # connect said EINPROGRESS: try to send at once and skip an epoll round.
            try:
                user.outgoing = user.outgoing[sock.send(user.outgoing):]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as error:
                if error.errno != errno.ENOTCONN:
                    sock.close()
                    user.sock = None
                    count_error(f"connect: {error.strerror or error}")
                    return False
            selector.register(sock, selectors.EVENT_WRITE if user.outgoing
                              else selectors.EVENT_READ, user)
        else:
            _send(user)
        return True

    def _send(user):
        try:
            written = user.sock.send(user.outgoing)
        except (BlockingIOError, InterruptedError):
            written = 0
        user.outgoing = user.outgoing[written:]
        wanted = selectors.EVENT_WRITE if user.outgoing else selectors.EVENT_READ
        if selector.get_key(user.sock).events != wanted:
            selector.modify(user.sock, wanted, user)

    def fail(user, name, now):
        nonlocal active
        count_error(name)
        close(user)
        if not start_request(user, now):
            active -= 1

    now = time.perf_counter()
    for user in users:
        if start_request(user, now):
            active += 1

    while active:
        now = time.perf_counter()
        if now > hard_deadline:
            errors["unfinished at the end of the grace period"] = active
            break
        events = selector.select(timeout=1.0)
        for key, mask in events:
            user = key.data
            if mask & selectors.EVENT_WRITE:
                try:
                    _send(user)
                except OSError as error:
                    fail(user, f"send: {error.strerror or error}", time.perf_counter())
                continue
            try:
                data = user.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as error:
                fail(user, f"recv: {error.strerror or error}", time.perf_counter())
                continue
            if not data:
                # Closed by the server. Before any byte of a response on a reused
                # connection, that is the keep-alive race: retry on a new one.
                if not user.buffer and not user.fresh_connection:
                    close(user)
                    user.sent -= 1
                    if not start_request(user, time.perf_counter()):
                        active -= 1
                    continue
                fail(user, "connection closed mid-response", time.perf_counter())
                continue
            user.buffer += data
            try:
                parsed = parse_response(user.buffer)
            except (ProtocolError, ValueError) as error:
                fail(user, f"protocol: {error}", time.perf_counter())
                continue
            if parsed is None:
                continue
            status, head, _body, consumed = parsed
            finished = time.perf_counter()
            result["bytes"] += consumed
            latencies.append(finished - user.started)
            statuses[status] = statuses.get(status, 0) + 1
            if user.accepted(status, head):
                result["accepted"] += 1
            if user.kind != "post" and b"set-cookie" in head.lower():
                user.cookie = session_cookie(head, user.cookie)
            connection = _header_value(head, b"connection")
            if connection is not None and connection.lower() == b"close":
                close(user)
            if not start_request(user, finished):
                active -= 1

    for user in users:
        close(user)
    selector.close()
    result["elapsed"] = time.perf_counter() - clock_start
    cpu_end = os.times()
    result["cpu_seconds"] = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    result["sent"] = sum(user.sent for user in users)
    if result_queue is not None:
        result_queue.put(_portable(result))
    return result


def _portable(result):
    result = dict(result)
    result["latencies"] = result["latencies"].tobytes()
    return result


def merge(results):
    """Combine the results of several generator processes."""
    merged = {"latencies": array("d"), "statuses": {}, "accepted": 0, "errors": {},
              "connections": 0, "cpu_seconds": 0.0, "elapsed": 0.0, "sent": 0, "bytes": 0}
    for result in results:
        latencies = result["latencies"]
        if isinstance(latencies, bytes):
            chunk = array("d")
            chunk.frombytes(latencies)
            latencies = chunk
        merged["latencies"].extend(latencies)
        for field in ("statuses", "errors"):
            for key, value in result[field].items():
                merged[field][key] = merged[field].get(key, 0) + value
        for field in ("accepted", "connections", "cpu_seconds", "sent", "bytes"):
            merged[field] += result[field]
        merged["elapsed"] = max(merged["elapsed"], result["elapsed"])
    return merged


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
