"""Placard under cProfile, for ``sign.py --profile``: one sync worker, every request profiled.

``GET /__bench_profile/reset`` drops what was collected; ``GET
/__bench_profile/dump?name=NAME`` writes ``NAME.pstats`` into
``BENCH_PROFILE_DIR`` and answers with the top functions by own time and by
cumulative time. The clock is the process's CPU time unless
``BENCH_PROFILE_CLOCK=wall``. Only ever served on loopback by the benchmark.
"""

import cProfile
import io
import os
import pstats
import time
from pathlib import Path

from campaign import create_app

TOP = 40


def app():
    flask_app = create_app()
    inner = flask_app.wsgi_app
    # CPU time by default: on a 2-core machine the server's CPU is what runs out.
    # BENCH_PROFILE_CLOCK=wall counts time spent waiting (database, Redis) too.
    clock = time.perf_counter if os.environ.get("BENCH_PROFILE_CLOCK") == "wall" \
        else time.process_time

    def new_profile():
        return cProfile.Profile(clock)

    state = {"profile": new_profile(), "requests": 0}
    directory = Path(os.environ["BENCH_PROFILE_DIR"])

    def report(name):
        profile = state["profile"]
        profile.dump_stats(directory / f"{name}.pstats")
        out = io.StringIO()
        out.write(f"{state['requests']} requests profiled\n")
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        return out.getvalue()

    def middleware(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__bench_profile/"):
            if path.endswith("/reset"):
                state["profile"], state["requests"] = new_profile(), 0
                body = b"reset\n"
            else:
                name = environ.get("QUERY_STRING", "").partition("name=")[2] or "profile"
                body = report("".join(c for c in name if c.isalnum())).encode()
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        profile = state["profile"]
        state["requests"] += 1
        profile.enable()
        try:
            return list(inner(environ, start_response))
        finally:
            profile.disable()

    flask_app.wsgi_app = middleware
    return flask_app
