"""cnnlib: a small, fast NumPy CNN library (CPU, float32 by default).

Public modules: ``layers``, ``losses``, ``nn``, ``optim``, ``schedules``, ``data``,
``models``, ``preprocess``, ``train``. Every trainable array is a :class:`Parameter`.
"""

from cnnlib.parameter import Parameter

__version__ = "0.1.0"
__all__ = ["Parameter", "__version__"]
