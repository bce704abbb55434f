"""Inline SVG charts for the load figures, as data: a ``Chart`` is a list of shapes in SVG
coordinates, which ``partials/chart.svg.j2`` draws. The arithmetic (scales, round ticks, stacking)
is here; the markup is in the template, escaped like the rest of the page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 36
AXIS, GRID, INK = "#8c959f", "#eaeef2", "#57606a"


@dataclass(frozen=True)
class Shape:
    kind: str  # line, text, rect or polyline
    attrs: dict[str, str]
    text: str = ""  # a text's words; for the others, the hover title


@dataclass
class Chart:
    label: str  # what the chart shows, for screen readers
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (name, colour)
    width: int = WIDTH
    height: int = HEIGHT


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def number(value: float) -> str:
    """A tick or hover label: whole numbers without decimals."""
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 or abs(value) >= 100 else f"{value:g}"


def _at(value: float) -> str:
    return f"{value:.1f}"


class Plot:
    """One chart area: data coordinates to SVG coordinates, axes with round ticks."""

    def __init__(self, x_max: float, y_max: float, *, x_label: str, y_label: str) -> None:
        self.y_step = nice_step(y_max or 1.0)
        self.y_max = max(self.y_step, math.ceil((y_max or 1.0) / self.y_step) * self.y_step)
        self.x_max = x_max or 1.0
        self.x_label, self.y_label = x_label, y_label
        self.inner_w, self.inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
        self.shapes: list[Shape] = []

    def x(self, value: float) -> float:
        return LEFT + self.inner_w * value / self.x_max

    def y(self, value: float) -> float:
        return TOP + self.inner_h * (1 - min(value, self.y_max) / self.y_max)

    def _line(self, x1: float, x2: float, y1: float, y2: float, colour: str, **extra: str) -> None:
        self.shapes.append(Shape("line", {"x1": _at(x1), "x2": _at(x2), "y1": _at(y1), "y2": _at(y2),
                                          "stroke": colour, **extra}))

    def _text(self, words: str, **attrs: str) -> None:
        self.shapes.append(Shape("text", attrs, words))

    def axes(self, *, x_ticks: bool = True) -> None:
        bottom = HEIGHT - BOTTOM
        for i in range(round(self.y_max / self.y_step) + 1):
            value = i * self.y_step
            y = self.y(value)
            self._line(LEFT, WIDTH - RIGHT, y, y, GRID)
            self._text(number(value), x=str(LEFT - 6), y=_at(y + 4), **{"text-anchor": "end", "fill": INK})
        if x_ticks:
            step = nice_step(self.x_max, 8)
            value = 0.0
            while value <= self.x_max + 1e-9:
                x = self.x(value)
                self._line(x, x, bottom, bottom + 4, AXIS)
                self._text(number(value), x=_at(x), y=str(bottom + 16), **{"text-anchor": "middle", "fill": INK})
                value += step
        self._line(LEFT, WIDTH - RIGHT, bottom, bottom, AXIS)
        self._line(LEFT, LEFT, TOP, bottom, AXIS)
        self._text(self.x_label, x=_at(LEFT + self.inner_w / 2), y=str(HEIGHT - 4),
                   **{"text-anchor": "middle", "fill": INK})
        self._text(self.y_label, transform=f"translate(12 {_at(TOP + self.inner_h / 2)}) rotate(-90)",
                   **{"text-anchor": "middle", "fill": INK})

    def rect(self, x: float, y_low: float, y_high: float, width: float, colour: str, title: str) -> None:
        top, bottom = self.y(y_high), self.y(y_low)
        self.shapes.append(Shape("rect", {"x": _at(x), "y": _at(top), "width": _at(max(width, 0.6)),
                                          "height": _at(max(bottom - top, 0.0)), "fill": colour}, title))

    def hline(self, value: float, colour: str, label: str) -> None:
        y = self.y(value)
        self._line(LEFT, WIDTH - RIGHT, y, y, colour, **{"stroke-width": "1.5", "stroke-dasharray": "6 4"})
        self._text(label, x=str(LEFT + 6), y=_at(y - 5), fill=colour, stroke="#fff",
                   **{"stroke-width": "3", "paint-order": "stroke", "font-weight": "600"})

    def polyline(self, xs: Sequence[float], ys: Sequence[float], colour: str, title: str) -> None:
        points = " ".join(f"{_at(self.x(x))},{_at(self.y(y))}" for x, y in zip(xs, ys, strict=False))
        self.shapes.append(Shape("polyline", {"points": points, "fill": "none", "stroke": colour,
                                              "stroke-width": "1.8"}, title))

    def chart(self, label: str, legend: Sequence[tuple[str, str]]) -> Chart:
        return Chart(label, self.shapes, list(legend))


def values(series: dict[str, Any], key: str, length: int) -> list[float]:
    return [float(v) for v in (series.get(key) or [0] * length)]
