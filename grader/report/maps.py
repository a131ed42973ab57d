"""Attribution maps (exercise13) as pictures: small images in the terminal, PNG with ``--plots``.

A check that finds a 2-D map wrong (an occlusion map, a saliency map, Grad-CAM) records it with
``grader.kit.record_map``: ``details["maps"]`` is a list of ``{"title", "expected", "got"}``,
each map a list of rows of numbers (at most ``MAX_SIDE`` on a side). A wrong map is seen at a
glance where its numbers are not: the drop in the wrong corner, the last column missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Group
from rich.text import Text

MAX_SIDE = 32


def has_maps(details: dict) -> bool:
    """Whether ``details`` hold maps to show."""
    maps = details.get("maps")
    return isinstance(maps, list) and bool(maps) and all(isinstance(m, dict) and "got" in m for m in maps)


def small(a) -> list[list[float]]:
    """A 2-D map as rows of rounded numbers, reduced by striding to at most MAX_SIDE on a side."""
    a = np.asarray(a, dtype=np.float64)
    while a.ndim > 2:  # (C, H, W) or (1, H, W): the channels summed, as the maps are shown
        a = a.sum(axis=0)
    a = np.atleast_2d(a)
    step = max(1, -(-max(a.shape) // MAX_SIDE))
    return np.round(a[::step, ::step], 4).tolist()


def _cells(a: np.ndarray, low: float, high: float) -> list[list[str]]:
    """Each value as a colour: blue (low) through white to red (high), zero white."""
    span = max(abs(low), abs(high), 1e-12)
    out = []
    for row in a:
        line = []
        for v in row:
            t = max(-1.0, min(1.0, v / span))
            fade = int(255 * (1 - abs(t)))
            line.append(f"rgb(255,{fade},{fade})" if t >= 0 else f"rgb({fade},{fade},255)")
        out.append(line)
    return out


def _picture(a: np.ndarray, low: float, high: float) -> list[Text]:
    """Two rows of the map per line of text: '▀' with the upper row as foreground, the lower as background."""
    cells = _cells(a, low, high)
    if len(cells) % 2:
        cells.append(["default"] * a.shape[1])
    lines = []
    for top, bottom in zip(cells[::2], cells[1::2]):
        line = Text()
        for fg, bg in zip(top, bottom):
            line.append("▀▀", style=f"{fg} on {bg}" if bg != "default" else fg)  # two columns: square cells
        lines.append(line)
    return lines


def maps_view(details: dict) -> Group:
    """Expected and got side by side, one pair per recorded map, on one colour scale per pair."""
    parts = []
    for m in details["maps"]:
        got = np.asarray(m["got"], dtype=np.float64)
        expected = np.asarray(m.get("expected", m["got"]), dtype=np.float64)
        low = float(min(got.min(initial=0), expected.min(initial=0)))
        high = float(max(got.max(initial=0), expected.max(initial=0)))
        left, right = _picture(expected, low, high), _picture(got, low, high)
        width = 2 * expected.shape[1] if expected.ndim == 2 else 0
        parts.append(Text(f"{m['title']}  (expected | yours; red > 0 > blue)", style="bold"))
        for i in range(max(len(left), len(right))):
            line = Text("  ")
            line.append_text(left[i] if i < len(left) else Text(" " * width))
            line.append("   ")
            line.append_text(right[i] if i < len(right) else Text(""))
            parts.append(line)
    return Group(*parts)


def write_png(details: dict, path: Path, title: str = "") -> Path:
    """Expected and got as images side by side, one row per recorded map (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import textwrap

    maps = details["maps"]
    fig, axes = plt.subplots(len(maps), 2, figsize=(7, 3.2 * len(maps)), squeeze=False)
    for row, m in zip(axes, maps):
        got, expected = np.asarray(m["got"], float), np.asarray(m.get("expected", m["got"]), float)
        span = max(np.abs(got).max(initial=0), np.abs(expected).max(initial=0), 1e-12)
        for ax, a, name in ((row[0], expected, "expected"), (row[1], got, "yours")):
            image = ax.imshow(a, cmap="bwr", vmin=-span, vmax=span)
            ax.set_title(name, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel("\n".join(textwrap.wrap(m["title"], 28)), fontsize=7)
        fig.colorbar(image, ax=list(row), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
