"""Server-rendered SVG bar charts (the page and the PDF draw the same ones, no JavaScript).

Geometry only: ``templates/gap_reports/_bar_chart.svg`` draws it. The font family is named
explicitly in the SVG, or Chinese labels fall back to a Japanese face in WeasyPrint.
"""

from dataclasses import dataclass

FONT_FAMILY = "WenQuanYi Micro Hei"


@dataclass(frozen=True)
class Bar:
    label: str
    y: float  # top of the row
    width: float
    value_text: str
    mark_x: float | None  # the target (or any reference) as a vertical mark
    row_height: int = 22
    left: int = 190

    @property
    def text_y(self) -> float:
        return self.y + self.row_height * 0.68

    @property
    def rect_y(self) -> float:
        return self.y + 4

    @property
    def rect_height(self) -> float:
        return self.row_height - 8

    @property
    def label_x(self) -> int:
        return self.left - 8

    @property
    def value_x(self) -> float:
        end = self.left + self.width
        return max(end, self.mark_x + 3 if self.mark_x is not None else end) + 6

    @property
    def mark_bottom(self) -> float:
        return self.y + self.row_height - 1


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """A whole chart; ``axis_y`` is where the tick labels sit."""

    title: str
    width: int
    height: int
    left: int
    plot_width: int
    row_height: int
    bars: list[Bar]
    ticks: list[Tick]
    legend_value: str
    legend_mark: str
    font_family: str = FONT_FAMILY

    @property
    def axis_y(self) -> int:
        return self.height - 6

    @property
    def plot_bottom(self) -> int:
        return self.height - 20

    @property
    def legend_x(self) -> int:
        return self.left


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if digits else str(round(value))


def bar_chart(
    rows: list[tuple[str, float | None, float | None]],
    *,
    title: str,
    maximum: float,
    legend_value: str = "",
    legend_mark: str = "",
    digits: int = 2,
    width: int = 680,
    left: int = 190,
    row_height: int = 22,
    step: float = 1,
) -> BarChart:
    """Horizontal bars of (label, value, mark) rows on a 0..maximum scale."""
    plot = width - left - 60
    scale = plot / maximum if maximum else 0
    top = 42
    bars = [
        Bar(
            label=label,
            y=top + i * row_height,
            width=round((value or 0) * scale, 1),
            value_text=_fmt(value, digits),
            mark_x=None if mark is None else round(left + mark * scale, 1),
            row_height=row_height,
            left=left,
        )
        for i, (label, value, mark) in enumerate(rows)
    ]
    count = int(maximum / step) if step else 0
    ticks = [
        Tick(x=round(left + i * step * scale, 1), text=_fmt(i * step, 0)) for i in range(count + 1)
    ]
    return BarChart(
        title=title,
        width=width,
        height=top + len(rows) * row_height + 24,
        left=left,
        plot_width=plot,
        row_height=row_height,
        bars=bars,
        ticks=ticks,
        legend_value=legend_value,
        legend_mark=legend_mark,
    )


def _nice_step(maximum: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if maximum / step <= 8:
            return step
    return 10_000


def unit_charts(report) -> dict[str, BarChart]:
    """The unit report's three charts: categories vs target, T shapes, industry depth."""
    from django.utils.translation import gettext as _

    names = dict(zip((c["id"] for c in report.run.categories), report.category_names, strict=True))
    categories = bar_chart(
        [
            (names.get(s.category_id, s.category.code), s.mean_level, s.mean_target)
            for s in report.categories
        ],
        title=_("各能力类别：平均最终等级与平均目标"),
        maximum=5,
        legend_value=_("平均最终等级"),
        legend_mark=_("平均目标"),
    )
    shapes = report.summary.shape_counts()
    top = max([n for _c, _l, n in shapes] + [1])
    step = _nice_step(top)
    shape_chart = bar_chart(
        [(label, n, None) for _code, label, n in shapes],
        title=_("T型分类人数"),
        maximum=-(-top // step) * step,
        legend_value=_("人数"),
        digits=0,
        step=step,
    )
    industries = bar_chart(
        [(s.industry.name, s.mean_depth, None) for s in report.industries],
        title=_("行业研究深度（平均）"),
        maximum=5,
        legend_value=_("平均深度"),
    )
    return {"categories": categories, "shapes": shape_chart, "industries": industries}
