"""Values as a staff officer writes them in each language: times, numbers, positions, areas.

The words come from the gettext catalogue, the digits and month names from Babel (CLDR), so a
Russian rendering spells the month in the genitive and groups the digits of numbers from 10 000 up
with a non-breaking space (``1550``, ``12 000``) while the English one says ``24 November 2026`` and
``1,550``. All times are UTC and say so.

Typographic characters are meant: the en dash of a range, the degree sign and the prime of an
angle (hence the ``noqa: RUF001`` on those lines).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from hotline.forms.i18n import babel_locale, translations
from hotline.forms.types import AltitudeBand, AltitudeUnit, Circle, DistanceUnit, Polygon, Position, TimeWindow


class Formatter:
    """Formats values for one language; ``_`` and ``ngettext`` are its catalogue."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = babel_locale(lang)
        catalogue = translations(lang)
        self._ = catalogue.gettext
        self.ngettext = catalogue.ngettext
        self.pgettext = catalogue.pgettext

    # -- numbers and dates ------------------------------------------------------------------

    def number(self, value: int) -> str:
        # Russian typography leaves a four-digit number whole (1550, as the New START limits are
        # written in Russian) and groups from five digits on (10 000); English groups from four.
        if self.lang == "ru" and abs(value) < 10_000:
            return str(value)
        return format_decimal(value, locale=self.locale)

    def date(self, day: date) -> str:
        return format_date(day, "long", locale=self.locale)

    @staticmethod
    def clock(moment: datetime) -> str:
        return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")

    def moment(self, moment: datetime) -> str:
        """A time as a field value: ``24 November 2026, 06:00 UTC``."""
        return self._("{date}, {time} UTC").format(date=self.date(moment.date()), time=self.clock(moment))

    def when(self, moment: datetime) -> str:
        """A time inside a sentence: ``on 24 November 2026 at 06:00 UTC``."""
        return self._("on {date} at {time} UTC").format(date=self.date(moment.date()), time=self.clock(moment))

    def window(self, window: TimeWindow) -> str:
        start, end = window.start, window.end
        if start.date() == end.date():
            return self._("{date}, {start}–{end} UTC").format(  # noqa: RUF001
                date=self.date(start.date()), start=self.clock(start), end=self.clock(end)
            )
        return self._("from {start_date}, {start_time} UTC to {end_date}, {end_time} UTC").format(
            start_date=self.date(start.date()),
            start_time=self.clock(start),
            end_date=self.date(end.date()),
            end_time=self.clock(end),
        )

    # -- places -----------------------------------------------------------------------------

    def position(self, position: Position) -> str:
        """Degrees and decimal minutes with the hemisphere, as on a chart."""
        latitude = self._angle(position.lat, self.pgettext("hemisphere", "N"), self.pgettext("hemisphere", "S"))
        longitude = self._angle(position.lon, self.pgettext("hemisphere", "E"), self.pgettext("hemisphere", "W"))
        return f"{latitude}, {longitude}"

    def _angle(self, value: Decimal, positive: str, negative: str) -> str:
        # Thousandths of a minute (about 2 m) show every position the wire can carry to a useful
        # precision; rounding to 60.000 carries into the next degree.
        degrees, fraction = divmod(abs(value), 1)
        minutes = (fraction * 60).quantize(Decimal("0.001"), ROUND_HALF_EVEN)
        if minutes == 60:
            degrees, minutes = degrees + 1, Decimal(0)
        shown = format_decimal(minutes, format="00.000", locale=self.locale)
        return f"{int(degrees)}°{shown}′ {negative if value < 0 else positive}"  # noqa: RUF001

    def area(self, area: Polygon | Circle) -> str:
        if isinstance(area, Polygon):
            vertices = "; ".join(self.position(vertex) for vertex in area.vertices)
            return self._("polygon with vertices at {vertices}").format(vertices=vertices)
        return self._("circle centred on {centre}, radius {radius}").format(
            centre=self.position(area.centre), radius=self.distance(area.radius, area.unit)
        )

    def distance(self, count: int, unit: DistanceUnit) -> str:
        if unit is DistanceUnit.KM:
            return self._("{count} km").format(count=self.number(count))
        return self.ngettext("{count} nautical mile", "{count} nautical miles", count).format(count=self.number(count))

    def altitude(self, band: AltitudeBand) -> str:
        if band.unit is AltitudeUnit.FL:
            return self._("FL{low}–FL{high}").format(low=f"{band.low:03d}", high=f"{band.high:03d}")  # noqa: RUF001
        feet = band.unit is AltitudeUnit.FT
        template = self._("{low}–{high} ft") if feet else self._("{low}–{high} m")  # noqa: RUF001
        return template.format(low=self.number(band.low), high=self.number(band.high))

    def megahertz(self, frequency: Decimal) -> str:
        return self._("{frequency} MHz").format(frequency=format_decimal(frequency, format="0.000", locale=self.locale))

    def language(self, tag: str) -> str:
        """The name of a language in this one: ``Russian``, ``английский``; the tag if unknown."""
        name: str = Locale.parse(self.locale).languages.get(tag.split("-", maxsplit=1)[0], tag)
        return name
