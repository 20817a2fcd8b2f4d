"""From MNIST pixels to model input.

The run settings ``data.pixel_offset``, ``data.pixel_scale`` and ``data.pixel_shift``
(see :data:`cnnlib.config.DEFAULTS`) map each uint8 pixel ``x`` (0..255) to::

    model input = (x - pixel_offset) / pixel_scale - pixel_shift      (float32)

* ``pixel_offset = 0`` (the default, with scale 255 and shift 0.5: ``x / 255 - 0.5``):
  computed as ``x * float32(1 / scale) - float32(shift)`` in float32, the arithmetic
  every run before ``pixel_offset`` existed used (bitwise the same numbers).
* ``pixel_offset != 0``: ``x - offset`` is computed in float32 (exact for integer
  offsets such as 128, and for any float32 offset with few significant bits), then
  divided by ``float32(scale)`` in float32 (correctly rounded), then the shift is
  subtracted. The 2018 framework's pixels ``(x - 128) / 255`` are offset 128, scale
  255, shift 0: every value equals ``float32((x - 128) / 255)`` computed in float64.

Shapes: images ``(N, H, W)`` uint8 -> model input ``(N, 1, H, W)`` float32.
"""

from __future__ import annotations

import numpy as np

__all__ = ["scale_images", "pixel_table"]


def scale_images(images: np.ndarray, scale: float = 255.0, shift: float = 0.5, offset: float = 0.0) -> np.ndarray:
    """uint8 ``(N, H, W)`` -> float32 model input ``(N, 1, H, W)``: ``(x - offset) / scale - shift``.

    Computed in float32 arithmetic (several times faster than a table lookup on a batch
    gathered from a large array); :func:`pixel_table` gives the same values. See the
    module docstring for the exact arithmetic of ``offset == 0`` and ``offset != 0``.
    """
    x = images.astype(np.float32)  # exact; a plain cast is faster than a mixed-type ufunc
    if offset == 0:
        x *= np.float32(1.0 / scale)
    else:
        x -= np.float32(offset)
        x /= np.float32(scale)
    if shift:  # x - 0 is x
        x -= np.float32(shift)
    return x.reshape(len(images), 1, *images.shape[1:])


def pixel_table(scale: float = 255.0, shift: float = 0.5, offset: float = 0.0) -> np.ndarray:
    """The model input of every pixel value 0..255, ``(256,)`` float32, as :func:`scale_images` computes it."""
    return scale_images(np.arange(256, dtype=np.uint8).reshape(1, 1, 256), scale, shift, offset).reshape(256)
