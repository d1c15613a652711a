"""Geometry of the dashboard's daily chart, drawn by the server as SVG: points
given (earns and positive adjustments) rise above the line, points spent and
expired hang below it, one band per day."""
from __future__ import annotations

from dataclasses import dataclass

from app.services.dashboard import DayTotals

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 28, 12, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str  # bar-earn | bar-spend | bar-expire


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    zero_y: float
    left: int
    right_x: int
    top: int
    bottom_y: int
    max_up: int
    max_down: int
    bars: list[Bar]
    labels: list[tuple[float, DayTotals]]  # x of every `label_step`th day's label


def build(days: list[DayTotals]) -> Chart:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    max_up = max((d.totals.issued for d in days), default=0)
    max_down = max((d.totals.spent + d.totals.expired for d in days), default=0)
    span = max(max_up + max_down, 1)
    zero_y = TOP + plot_h * (max_up / span if max_up + max_down else 0.5)
    band = plot_w / max(len(days), 1)
    bar_w = band * 0.7
    bars: list[Bar] = []
    labels = []
    # About six labels whatever the period: every day of a week, every 5th of a
    # month, every 15th of a quarter.
    label_step = max(1, round(len(days) / 6))
    for i, day in enumerate(days):
        x = LEFT + i * band + (band - bar_w) / 2
        up = plot_h * day.totals.issued / span
        if up:
            bars.append(Bar(round(x, 1), round(zero_y - up, 1), round(bar_w, 1), round(up, 1),
                            "bar-earn"))
        spent = plot_h * day.totals.spent / span
        if spent:
            bars.append(Bar(round(x, 1), round(zero_y, 1), round(bar_w, 1), round(spent, 1),
                            "bar-spend"))
        expired = plot_h * day.totals.expired / span
        if expired:
            bars.append(Bar(round(x, 1), round(zero_y + spent, 1), round(bar_w, 1),
                            round(expired, 1), "bar-expire"))
        if (len(days) - 1 - i) % label_step == 0:
            labels.append((round(LEFT + i * band + band / 2, 1), day))
    return Chart(WIDTH, HEIGHT, round(zero_y, 1), LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM,
                 max_up, max_down, bars, labels)
