"""The picket sign's QR code, as SVG that can sit inside the page.

The page's Content-Security-Policy forbids style attributes, so the SVG carries
presentation attributes only (fill, stroke, viewBox) and no size: the print
stylesheet gives it its printed size.
"""

import segno
from markupsafe import Markup

PAPER_SIZES = ("a4", "letter")


def qr_code_svg(url, title):
    """``url`` as a QR code (error correction M, survives a crumpled or rained-on sign):
    an ``<svg>`` element one unit per module, quiet zone included, named ``title``
    for screen readers."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None,
                          dark="#000", light="#fff", title=title)
    # segno escapes the title and writes only attributes; role and crisp edges are ours.
    return Markup(svg.replace("<svg ", '<svg role="img" shape-rendering="crispEdges" ', 1))  # noqa: S704
