"""Small helpers the benchmark scripts share: output, loopback ports, and CPU from /proc."""

import os
import socket
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def say(message=""):
    print(message, flush=True)


def free_port():
    """A port nothing listens on, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid, *, with_reaped_children=False):
    """User + system CPU of a process (and of its children it has reaped), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(value) for value in fields[11:15 if with_reaped_children else 13]) / CLOCK_TICKS
