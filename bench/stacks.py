#!/usr/bin/env python3
"""Summarise py-spy's raw (collapsed) stacks: where the server's CPU went.

    .venv/bin/python bench/stacks.py bench/results/<run>/sign.stacks --ms-per-request 14.5

py-spy (run without ``--idle``) samples a thread only while it is running, so
a function's share of the samples is its share of the server's CPU time.
Given the measured CPU per request, shares become milliseconds per request.

Prints the functions with most samples of their own ("self"), the ones most
often on the stack ("inclusive"), and a breakdown of the request into the
steps named in ``STEPS`` below (inclusive, so nested steps overlap their
parent's figure).
"""

import argparse
import re
from collections import Counter

# (label, regular expression matched against one frame "function (file:line)").
# Steps of Placard's two hot paths, and the libraries that they call into.
Q = r"^(?:[\w<>]+\.)*"  # an optional class (or enclosing function) before the name
STEPS = {
    "sign": [
        ("whole request in the worker (gunicorn handle)", Q + r"handle \(gunicorn/workers/"),
        ("  gunicorn: parse request, write response, close", Q + r"handle \(gunicorn/workers/",
         "not-within", Q + r"Flask\.__call__ \("),
        ("  Flask: request context push (session cookie open)", Q + r"RequestContext\.push \("),
        ("  Flask-Limiter check (moving window in Redis)", Q + r"_check_request_limit \("),
        ("  CSRFProtect before_request check", Q + r"CSRFProtect\.protect \("),
        ("  view petitions.sign", r"^sign \(campaign/petitions/views\.py"),
        ("    find_signable_petition (snapshot, cached per process)",
         r"^find_signable_petition \(campaign/"),
        ("    find_visible_petition (ORM petition + campaign + demands)",
         r"^find_visible_petition \(campaign/"),
        ("    SignForm() construction", r"^sign_form_for \(campaign/"),
        ("    form.validate_on_submit()", Q + r"validate_on_submit \(flask_wtf/"),
        ("      email validation (email_validator)", r"^_valid_email \(campaign/"),
        ("      CSRF token check (form field)", Q + r"validate_csrf_token \("),
        ("    sign_petition (service)", r"^sign_petition \(campaign/signatures/services"),
        ("      _find_or_create_supporter_id (upsert)", r"^_find_or_create_supporter_id \("),
        ("      insert_ignoring_conflicts (signature INSERT)", r"^insert_ignoring_conflicts \(",
         "not-within", r"^_record_demands \("),
        ("      ip_hash + new_token", r"^(ip_hash|new_token) \(campaign/security"),
        ("      queue_email (outbox INSERT)", r"^queue_email \(campaign/mail/"),
        ("        render_email (Jinja, when rendered at sign time)",
         r"^render_email \(campaign/mail/"),
        ("    db.session.commit()", Q + r"scoped_session\.commit \("),
        ("      after-commit job publish (Celery send_task)", r"^_dispatch_now \(campaign/jobs"),
        ("    url_for (redirect target)", Q + r"url_for \(flask/", "within",
         r"^sign \(campaign/petitions/views\.py"),
        ("  Flask: finalize (after_request, session cookie save)",
         Q + r"Flask\.finalize_request \("),
        ("  Flask: teardown (context pop, session remove)", Q + r"RequestContext\.pop \("),
        ("SQLAlchemy statement building + compiling (anywhere)",
         r"\(sqlalchemy/sql/", "not-within", r"\(sqlalchemy/engine/"),
        ("SQLAlchemy execute incl. driver (anywhere)", Q + r"Connection\.execute \(sqlalchemy/engine"),
        ("psycopg (anywhere)", r"\(psycopg/"),
    ],
    "page": [
        ("whole request in the worker (gunicorn handle)", Q + r"handle \(gunicorn/workers/"),
        ("  gunicorn: parse request, write response, close", Q + r"handle \(gunicorn/workers/",
         "not-within", Q + r"Flask\.__call__ \("),
        ("  Flask: request context push (session cookie open)", Q + r"RequestContext\.push \("),
        ("    select_locale", r"^select_locale \(campaign/"),
        ("  Flask-Limiter check (no limit on this route)", Q + r"_check_request_limit \("),
        ("  view campaigns.show", r"^show \(campaign/campaigns/views\.py"),
        ("    generate_csrf (visitor's token)", r"^generate_csrf \(flask_wtf/"),
        ("    render_template (cache miss, at most every 5 s)", r"^render_template \(flask/"),
        ("  Flask: finalize (after_request, session cookie save)",
         Q + r"Flask\.finalize_request \("),
        ("    add_security_headers", r"^add_security_headers \(campaign/"),
        ("    Flask-Limiter after_request (headers)", Q + r"Limiter\._inject_headers|"
         + Q + r"Limiter\.__inject"),
        ("    session cookie save", Q + r"save_session \(flask/sessions"),
        ("  Flask: teardown (context pop, session remove)", Q + r"RequestContext\.pop \("),
    ],
}
# Broad owners of CPU, by the innermost frame that matches (for the "where" table).
OWNERS = [
    ("PostgreSQL driver (psycopg)", r"\(psycopg/"),
    ("SQLAlchemy", r"\(sqlalchemy/"),
    ("Jinja2 templates", r"\((jinja2/|templates/|.*\.html:|.*\.txt:)"),
    ("WTForms / Flask-WTF", r"\((wtforms/|flask_wtf/)"),
    ("email_validator", r"\(email_validator/"),
    ("Celery / kombu (job publish)", r"\((celery/|kombu/)"),
    ("redis-py", r"\(redis/"),
    ("Flask-Limiter / limits", r"\((flask_limiter/|limits/)"),
    ("Flask-Babel / Babel", r"\((flask_babel/|babel/)"),
    ("itsdangerous (session, CSRF)", r"\(itsdangerous/"),
    ("Flask / Werkzeug", r"\((flask/|werkzeug/)"),
    ("gunicorn", r"\(gunicorn/"),
    ("Placard's own code (campaign/)", r"\(campaign/"),
]

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def read_stacks(path):
    """``[(frames outermost first, samples)]`` from a py-spy raw file."""
    stacks = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            frames = [_clean(frame) for frame in stack.split(";")]
            # py-spy may put process and thread names first; keep Python frames only.
            frames = [frame for frame in frames
                      if "(" in frame and not frame.startswith(("process ", "thread "))]
            stacks.append((frames, int(count)))
    return stacks


def _clean(frame):
    match = FRAME.match(frame)
    if not match:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{match['function']} ({file}{':' + match['line'] if match['line'] else ''})"


def _step_matches(step, frames):
    """Whether a stack counts for ``step``: (label, pattern[, "within"|"not-within", other])."""
    pattern = re.compile(step[1])
    positions = [index for index, frame in enumerate(frames) if pattern.search(frame)]
    if not positions:
        return False
    if len(step) == 2:
        return True
    relation, other = step[2], re.compile(step[3])
    if relation == "within":  # below a frame matching ``other``
        return any(other.search(frame) for frame in frames[:positions[-1]])
    # not-within: nothing matching ``other`` below the step's frame
    return not any(other.search(frame) for frame in frames[positions[0] + 1:])


def summarise(stacks, path_steps, ms_per_request=None, top=25):
    total = sum(count for _frames, count in stacks)
    own, inclusive, owners = Counter(), Counter(), Counter()
    owner_patterns = [(label, re.compile(pattern)) for label, pattern in OWNERS]
    for frames, count in stacks:
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        owner = "other (stdlib, C code called directly)"
        for frame in reversed(frames):
            found = next((label for label, pattern in owner_patterns if pattern.search(frame)),
                         None)
            if found:
                owner = found
                break
        owners[owner] += count

    def figure(samples):
        share = samples / total if total else 0.0
        text = f"{share * 100:5.1f}%"
        if ms_per_request:
            text += f"  {share * ms_per_request:6.2f} ms"
        return text

    lines = [f"{total:,} samples" + (f"; {ms_per_request:.2f} ms of server CPU per request"
                                     if ms_per_request else "")]
    if path_steps:
        lines.append("\nsteps of the request (inclusive; indented steps are part of the one above):")
        for step in path_steps:
            samples = sum(count for frames, count in stacks if _step_matches(step, frames))
            lines.append(f"  {figure(samples)}  {step[0]}")
    lines.append("\nCPU by owner (innermost frame that belongs to a known package):")
    for label, samples in owners.most_common():
        lines.append(f"  {figure(samples)}  {label}")
    lines.append(f"\ntop {top} functions by own samples (self):")
    for frame, samples in own.most_common(top):
        lines.append(f"  {figure(samples)}  {frame}")
    lines.append(f"\ntop {top} functions by inclusive samples:")
    for frame, samples in inclusive.most_common(top):
        lines.append(f"  {figure(samples)}  {frame}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", help="a py-spy --format raw file")
    parser.add_argument("--path", choices=sorted(STEPS), help="name the steps of this path")
    parser.add_argument("--ms-per-request", type=float, help="measured server CPU per request")
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    print(summarise(read_stacks(options.stacks), STEPS.get(options.path), options.ms_per_request,
                    options.top))


if __name__ == "__main__":
    main()
