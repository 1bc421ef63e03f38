"""Organizer-written text never runs in a visitor's browser.

Each payload goes through every organizer-written field, and the rendered
public pages are checked for anything that could execute: script elements,
event-handler attributes, script-bearing URLs, style attributes and embeds.
"""

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from campaign import create_app
from campaign.extensions import db
from tests.factories import make_campaign, make_petition
from tests.factories_events import make_event

# Classic forms from the filter-evasion literature: plain, mixed case,
# malformed tags, encoded schemes, event handlers, SVG and MathML vectors, CSS.
PAYLOADS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG onerror=\"alert(1)\" SRC=/>",
    "<img src=x onerror=alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",  # noqa: E501
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",  # noqa: E501
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=//xss.example/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert('XSS');\"></iframe>",
    "<IFRAME SRC=# onmouseover=\"alert(document.cookie)\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<STYLE>@import'https://xss.example/xss.css';</STYLE>",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"https://xss.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv\">",  # noqa: E501
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a>",
    "[click me](javascript:alert(1))",
    "[click me](JAVASCRIPT:alert(1))",
    "[x](vbscript:msgbox(1))",
    "![img](javascript:alert(1))",
    "<a href=\"https://example.org\" style=\"color:red\" onclick=\"alert(1)\">styled</a>",
    "\"><script>alert(1)</script>",
    "'-alert(1)-'",
    "{{ config }} {% raw %}",
]

_RISKY_TAGS = {"script", "iframe", "frame", "object", "embed", "style", "link", "meta", "svg",
               "math", "base", "form", "input", "body", "applet", "img", "video", "audio"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "xlink:href",
                   "poster"}
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class _ElementCollector(HTMLParser):
    """What a browser would build from the page: elements and their attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = Counter()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += tag in _RISKY_TAGS
        for name, value in attrs:
            name = (name or "").lower()
            compact = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=...>")
            elif name in _URL_ATTRIBUTES and compact.startswith(_BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}>")
            elif name == "http-equiv":
                # A refresh can navigate to a script URL; the site itself never sends one.
                self.problems.append(f"<{tag} http-equiv={value!r}>")

    handle_startendtag = handle_starttag


def _collect(html):
    collector = _ElementCollector()
    collector.feed(html)
    return collector


def assert_nothing_runs(html, where, baseline=""):
    """No event handler, style attribute or script URL anywhere, and no risky element
    beyond those of the same page with harmless text (the site's own meta, link,
    script and form elements)."""
    page, expected = _collect(html), _collect(baseline)
    assert not page.problems, f"{where}: {page.problems} reached the page"
    extra = {tag: count for tag, count in page.tags.items() if count > expected.tags.get(tag, 0)}
    assert not extra, f"{where}: unexpected elements {extra}"


def _render_pages(app, client, text):
    with app.app_context():
        campaign = make_campaign(slug="xss-campaign", title=text, summary=text, body=text)
        campaign.demands[0].text = text
        make_petition(campaign=campaign, slug="xss-petition", title=text, target=text,
                      body=text, consent_wording=text)
        make_event(campaign, slug="xss-event", title=text, description=text, venue_name=text,
                   address=text, city=text[:100], accessibility=text, contact=text[:300])
        db.session.commit()
    pages = {}
    for path in ("/", "/campaigns/xss-campaign", "/petitions/xss-petition", "/events",
                 "/events/xss-event", "/events/xss-event/picket-sign"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    return pages


@pytest.fixture(scope="module")
def baseline_pages(tmp_path_factory):
    from tests.conftest import unit_config

    app = create_app(unit_config(tmp_path_factory.mktemp("baseline")))
    with app.app_context():
        db.create_all()
    return _render_pages(app, app.test_client(), "Peace treaty now")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_in_any_organizer_field_reaches_a_visitor(app, client, payload, baseline_pages):
    for path, html in _render_pages(app, client, payload).items():
        assert_nothing_runs(html, path, baseline_pages[path])


def test_links_organizers_write_are_marked_nofollow_noopener(app, client):
    with app.app_context():
        make_campaign(slug="links", body="[our site](https://example.org/peace)")
        db.session.commit()
    page = client.get("/campaigns/links").text
    anchor = re.search(r'<a href="https://example.org/peace"[^>]*>', page).group(0)
    assert "nofollow" in anchor and "noopener" in anchor


def test_the_checks_catch_what_they_are_meant_to_catch():
    for sample in ('<script>x</script>', '<img src=x onerror="x">', '<p style="x">',
                   '<a href="javascript:x">', "<svg onload=x>"):
        with pytest.raises(AssertionError):
            assert_nothing_runs(sample, "sample")
