"""Small pictures as SVG text: a held-out 8×8 digit, drawn pixel by pixel (no image library needed)."""
from __future__ import annotations

import numpy as np


def digit_svg(image: np.ndarray, size: int = 112) -> str:
    """An 8×8 image with values 0–16 as a greyscale SVG, ``size`` pixels square (dark ink on white)."""
    pixels = np.asarray(image, dtype=float).reshape(8, 8)
    cell = size / 8
    rects = []
    for (row, col), value in np.ndenumerate(pixels):
        if value <= 0:
            continue
        shade = round(255 * (1 - min(value, 16) / 16))
        rects.append(f'<rect x="{col * cell:.1f}" y="{row * cell:.1f}" width="{cell + 0.5:.1f}" '
                     f'height="{cell + 0.5:.1f}" fill="rgb({shade},{shade},{shade})"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
            f'role="img" aria-label="held-out digit"><rect width="{size}" height="{size}" fill="#fff"/>'
            + "".join(rects) + "</svg>")
