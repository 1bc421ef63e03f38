"""Charts drawn on the server as SVG: no script, readable by screen readers.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that
says what it shows, and the page puts the same figures in a table beside it.
Built with ElementTree, so every text is escaped and the markup is well formed.
"""

import dataclasses
import math
import xml.etree.ElementTree as ET

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#1a1a1a"
GRID = "#d6d2c8"
# On the chart's white ground both bar colours reach 3:1, and so do they against
# each other (WCAG 1.4.11, non-text contrast).
SUBMITTED_FILL = "#949494"
CONFIRMED_FILL = "#8a1c1c"

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 44, 64


@dataclasses.dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: list[int]
    fill: str


def nice_scale(largest, max_ticks=5):
    """The ticks of a value axis from 0 past ``largest``, in steps of 1, 2 or 5 × 10ⁿ."""
    largest = max(largest, 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(largest / step) <= max_ticks:
                return [step * index for index in range(math.ceil(largest / step) + 1)]
        magnitude *= 10


def _element(parent, tag, text=None, **attributes):
    element = ET.SubElement(parent, tag, {name.rstrip("_").replace("_", "-"): str(value)
                                          for name, value in attributes.items()})
    if text is not None:
        element.text = text
    return element


def bar_chart(*, chart_id, title, description, keys, labels, series, x_label, y_label,
              locale, label_every=5):
    """Grouped bars, one group per category (``keys`` identify them, ``labels`` name them),
    one bar per :class:`Series`. Returns the SVG as markup to embed in a page.

    Each bar carries ``data-key``, ``data-series`` and ``data-value``, so that
    tests (and anyone reading the source) can check it against the table.
    """
    ticks = nice_scale(max((value for one in series for value in one.values), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_height

    def y(value):
        return base - plot_height * value / ticks[-1]

    svg = ET.Element("svg", {
        "xmlns": SVG_NAMESPACE, "viewBox": f"0 0 {WIDTH} {HEIGHT}", "width": str(WIDTH),
        "height": str(HEIGHT), "role": "img", "class": "chart", "id": chart_id,
        "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
        "font-family": FONT, "font-size": "12", "fill": INK,
    })
    _element(svg, "title", title, id=f"{chart_id}-title")
    _element(svg, "desc", description, id=f"{chart_id}-desc")
    _element(svg, "rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#ffffff")

    legend = _element(svg, "g", class_="legend")
    x = LEFT
    for one in series:
        _element(legend, "rect", x=x, y=12, width=14, height=14, fill=one.fill)
        _element(legend, "text", one.label, x=x + 20, y=24)
        x += 40 + 8 * len(one.label)

    axis = _element(svg, "g", class_="y-axis")
    for tick in ticks:
        _element(axis, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=f"{y(tick):.1f}", y2=f"{y(tick):.1f}",
                 stroke=GRID if tick else INK, stroke_width=1)
        _element(axis, "text", format_decimal(tick, locale=locale), x=LEFT - 8,
                 y=f"{y(tick) + 4:.1f}", text_anchor="end")
    _element(axis, "text", y_label, x=14, y=TOP + plot_height / 2, text_anchor="middle",
             transform=f"rotate(-90 14 {TOP + plot_height / 2:.1f})")

    group_width = plot_width / max(len(keys), 1)
    bar_width = max(1.0, (group_width - 4) / max(len(series), 1))
    bars = _element(svg, "g", class_="bars")
    for index, (key, label) in enumerate(zip(keys, labels, strict=True)):
        left = LEFT + index * group_width + 2
        for position, one in enumerate(series):
            value = one.values[index]
            bar = _element(bars, "rect", x=f"{left + position * bar_width:.1f}",
                           y=f"{y(value):.1f}", width=f"{bar_width:.1f}",
                           height=f"{base - y(value):.1f}", fill=one.fill,
                           data_key=key, data_series=one.key, data_value=value)
            _element(bar, "title", f"{label}: {format_decimal(value, locale=locale)} {one.label}")
        # Counted back from the last category, so that the newest one is always labelled.
        if (len(keys) - 1 - index) % label_every == 0:
            _element(svg, "text", label, x=f"{left + group_width / 2 - 2:.1f}", y=base + 18,
                     text_anchor="middle", class_="x-label")
    _element(svg, "text", x_label, x=LEFT + plot_width / 2, y=HEIGHT - 12, text_anchor="middle")
    return Markup(ET.tostring(svg, encoding="unicode"))  # noqa: S704 - built and escaped by ElementTree


def daily_signatures_chart(days, locale):
    """The numbers page's chart: submitted and confirmed signatures per UTC day."""
    submitted = [day.submitted for day in days]
    confirmed = [day.confirmed for day in days]
    first = format_date(days[0].day, "long", locale=locale)
    last = format_date(days[-1].day, "long", locale=locale)
    description = _("Bar chart of the signatures submitted and confirmed each day from %(first)s "
                    "to %(last)s (UTC): %(submitted)s submitted and %(confirmed)s confirmed in "
                    "all.", first=first, last=last,
                    submitted=format_decimal(sum(submitted), locale=locale),
                    confirmed=format_decimal(sum(confirmed), locale=locale))
    if any(submitted):
        busiest = max(days, key=lambda day: (day.submitted, day.day))
        description += " " + _("The busiest day was %(day)s, with %(count)s submitted.",
                               day=format_date(busiest.day, "long", locale=locale),
                               count=format_decimal(busiest.submitted, locale=locale))
    description += " " + _("The table beside the chart gives each day's figures.")
    return bar_chart(
        chart_id="signatures-per-day",
        title=_("Signatures per day, last %(days)s days (UTC)", days=len(days)),
        description=description,
        keys=[day.day.isoformat() for day in days],
        labels=[format_skeleton("MMMd", day.day, locale=locale) for day in days],
        series=[Series("submitted", _("Submitted"), submitted, SUBMITTED_FILL),
                Series("confirmed", _("Confirmed"), confirmed, CONFIRMED_FILL)],
        x_label=_("Day (UTC)"), y_label=_("Signatures"), locale=locale)
