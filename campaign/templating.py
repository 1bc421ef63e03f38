"""What every template may use: Markdown, the language switcher, share links."""

from urllib.parse import quote, urlencode

from flask import request, url_for
from flask_babel import get_locale

from campaign.db import utcnow
from campaign.events.display import event_when, event_when_short, kind_label
from campaign.i18n import LANGUAGE_NAMES
from campaign.links import public_url
from campaign.text import render_markdown


def share_links(url, text):
    """Plain share links: no third-party script runs on our pages."""
    return {
        "email": "mailto:?" + urlencode({"subject": text, "body": f"{text}\n\n{url}"},
                                        quote_via=quote),
        "x": "https://x.com/intent/post?" + urlencode({"text": text, "url": url}),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        "whatsapp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
    }


def register_template_helpers(app):
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals.update(event_when=event_when, event_when_short=event_when_short,
                                 kind_label=kind_label)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    with app.app_context():
        # Every email's footer links to the supporter's own page (their data, their rights).
        app.jinja_env.globals["my_data_url"] = public_url("privacy_me.home")

    @app.context_processor
    def common():
        locale = str(get_locale())
        return {
            "current_locale": locale,
            "html_lang": locale.replace("_", "-"),
            "language_links": [
                (code, name, url_for("i18n.switch", code=code, next=request.full_path.rstrip("?")))
                for code, name in LANGUAGE_NAMES.items() if code != locale
            ] if request else [],
            "share_links": share_links,
            "organisation_name": app.config["ORGANISATION_NAME"],
            "now": utcnow,
        }
