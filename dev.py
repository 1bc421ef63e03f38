#!/usr/bin/env python3
"""Placard developer entry point; standard library only, as it runs before
any dependency is installed."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
# Records what the last successful install was made from, so unchanged
# checkouts skip pip entirely (it takes seconds even when nothing changes).
STAMP = VENV / ".placard-install.json"
TRANSLATIONS = ROOT / "campaign" / "translations"

USAGE = """\
usage: python3 dev.py run [--port N]    start the app with demo data
       python3 dev.py test [ARGS...]    run the test suite (ARGS go to pytest)"""


def say(message: str) -> None:
    print(f"placard: {message}", flush=True)


def fail(message: str, code: int = 1) -> None:
    print(f"placard: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def run_step(args: list[str], what: str) -> None:
    """Run a command with its output streaming; stop with its exit code on failure."""
    result = subprocess.run(args, cwd=ROOT)
    if result.returncode != 0:
        fail(f"{what} failed (exit {result.returncode})", result.returncode)


def pyproject_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def read_stamp() -> dict:
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def ensure_venv(extras: tuple[str, ...]) -> None:
    if not PYTHON.exists():
        say("creating .venv…")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], cwd=ROOT)
        if result.returncode != 0:
            fail(
                "could not create .venv; on Debian/Ubuntu install python3-venv "
                "(apt-get install python3-venv)",
                result.returncode,
            )
        STAMP.unlink(missing_ok=True)

    digest = pyproject_hash()
    stamp = read_stamp()
    # An install with more extras (test) also satisfies one with fewer (run).
    if stamp.get("pyproject") == digest and set(extras) <= set(stamp.get("extras", [])):
        return

    target = f".[{','.join(extras)}]" if extras else "."
    say("installing dependencies… (first run or pyproject.toml changed)")
    result = subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", target],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        fail(f"pip install -e {target} failed (exit {result.returncode})", result.returncode)
    STAMP.write_text(json.dumps({"pyproject": digest, "extras": sorted(extras)}) + "\n")


def compile_translations() -> None:
    # A fresh project may have no catalogs yet; pybabel treats that as an error.
    if not TRANSLATIONS.is_dir() or not any(TRANSLATIONS.rglob("*.po")):
        return
    say("compiling translations…")
    run_step(
        [str(BIN / "pybabel"), "--quiet", "compile", "-d", "campaign/translations", "-f"],
        "compiling translations",
    )


def exec_into(args: list[str]) -> None:
    """Replace this process so signals and the exit code belong to the command."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(args[0], args)  # noqa: S606 - fixed argv, no shell involved


def cmd_run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dev.py run", description="Start Placard locally.")
    parser.add_argument("--port", type=int, default=5000, help="port to serve on (default 5000)")
    options = parser.parse_args(argv)

    ensure_venv(())
    compile_translations()
    flask = [str(BIN / "flask"), "--app", "campaign"]
    say("upgrading the database…")
    run_step([*flask, "db", "upgrade"], "flask db upgrade")
    say("loading demo data…")
    run_step([*flask, "demo", "load"], "flask demo load")
    # Links in the emails must point at the port actually served.
    os.environ.setdefault("PUBLIC_URL", f"http://127.0.0.1:{options.port}")
    say(f"serving on http://127.0.0.1:{options.port}/ (emails: http://127.0.0.1:{options.port}/dev/mail/)")
    exec_into([*flask, "run", "--host", "127.0.0.1", "--port", str(options.port)])


def cmd_test(argv: list[str]) -> None:
    # Checked before the install so a missing browser is reported in seconds.
    # The browser tests are part of the suite, not optional extras.
    if shutil.which("chromium") is None:
        fail(
            "the browser tests need Chromium, which is not on PATH; "
            "install it with: sudo apt-get install chromium"
        )
    ensure_venv(("test",))
    compile_translations()
    say("running tests…")
    # pytest's own exit code is passed through untouched; "no tests
    # collected" (5) is non-zero and so already counts as a failure.
    exec_into([str(PYTHON), "-m", "pytest", *argv])


COMMANDS = {"run": cmd_run, "test": cmd_test}


def main() -> None:
    # The system python3 runs this file, not the project's interpreter, so the
    # requires-python floor has not been enforced by anything yet.
    if sys.version_info < (3, 11):  # noqa: UP036
        fail(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    os.chdir(ROOT)
    try:
        COMMANDS[sys.argv[1]](sys.argv[2:])
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
