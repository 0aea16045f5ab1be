"""Figures a widget draws and shows from any thread: no pyplot, no ``Output`` widget context.

pyplot keeps global state and an ``Output`` widget routes what is displayed inside it by the kernel's
current parent message, which ipykernel 7 does not carry reliably into other threads. A widget that may
redraw from a background thread (a simulation, a refresh timer) draws on a plain ``Figure`` and sets the
PNG on an ``Image`` widget instead: setting a trait is safe from any thread.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import ipywidgets as w

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_image() -> w.Image:
    """An empty PNG ``Image`` widget that scales down to its container and shows once it has a figure."""
    return w.Image(format="png", layout=w.Layout(max_width="100%", display="none"))


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure outside pyplot (nothing global is touched, so any thread may draw on it)."""
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def show_figure(image: w.Image, fig: Figure, *, dpi: int = 100) -> None:
    """Render ``fig`` as PNG into ``image`` and show it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    image.value = buffer.getvalue()
    image.layout.display = None


def hide_figure(image: w.Image) -> None:
    """Empty ``image`` (nothing to draw)."""
    image.value = b""
    image.layout.display = "none"
