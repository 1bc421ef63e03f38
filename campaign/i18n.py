"""Language choice: the visitor's own pick (a cookie), else their browser's preference."""

import unicodedata

from babel import Locale
from flask import Blueprint, abort, current_app, redirect, request

LANGUAGE_COOKIE = "placard_lang"
LANGUAGE_NAMES = {"en": "English", "fr_CA": "Français"}


def select_locale():
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported:
        return chosen
    # Browsers send fr, fr-FR, fr-CA…: all of them read the Canadian French catalog.
    offered = {language.replace("_", "-"): language for language in supported}
    offered.update({"fr": "fr_CA"})
    best = request.accept_languages.best_match(list(offered))
    return offered.get(best, current_app.config["BABEL_DEFAULT_LOCALE"])


def country_choices(locale):
    """``[(code, name)]`` of the world's countries, named and sorted in ``locale``'s language."""
    return _country_choices(str(locale))


_cache = {}


def _country_choices(locale_name):
    if locale_name not in _cache:
        territories = Locale.parse(locale_name).territories
        choices = [(code, name) for code, name in territories.items()
                   if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN",
                                                                          "QO", "XA", "XB"}]
        _cache[locale_name] = sorted(choices, key=lambda item: _sort_key(item[1]))
    return _cache[locale_name]


def _sort_key(name):
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


bp = Blueprint("i18n", __name__)


@bp.get("/language/<code>")
def switch(code):
    """Remember the visitor's language and take them back where they were."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.args.get("next", "/")
    # Only a path on this site: never an open redirect to another host.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    response = redirect(target, 303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
