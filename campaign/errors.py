"""Domain errors raised by services, and the error pages."""

import logging

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain said no; views turn it into a clear page, never a 500."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


ERROR_TITLES = {
    400: _l("This request could not be understood"),
    403: _l("You may not see this page"),
    404: _l("Page not found"),
    405: _l("This action is not available here"),
    413: _l("What you sent is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
    503: _l("Placard is not available right now"),
}
ERROR_EXPLANATIONS = {
    400: _l("Please go back and try again."),
    403: _l("If you think you should have access, ask the campaign's organizers."),
    404: _l("The address may be mistyped, or the page may have moved or been removed."),
    405: _l("Please go back and use the page's own buttons and links."),
    413: _l("Please send something smaller."),
    429: _l("You have tried this too many times in a short while. Please wait a few minutes, "
            "then try again."),
    500: _l("We have been told about it. Please try again in a moment."),
    503: _l("Please try again in a few minutes."),
}


def render_error(code):
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code),
                           explanation=ERROR_EXPLANATIONS.get(code)), code


def register_error_handlers(app, on_csrf_error):
    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        if _is_api_request():
            from campaign.api.views import api_http_error

            return api_http_error(error)
        if code not in ERROR_TITLES:
            return error
        return render_error(code)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # A form left open overnight, or cookies blocked: give the visitor their
        # form back with a fresh token instead of a bare "400 Bad Request".
        handled = on_csrf_error(error)
        return handled if handled is not None else render_error(400)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api_request():
            from campaign.api.http import error_response

            return error_response(500, "Something went wrong on our side; we have been told.")
        return render_error(500)


def _is_api_request():
    # The API's clients read JSON, whether or not a route of the API matched.
    return request.path == "/api/v2" or request.path.startswith("/api/v2/")
