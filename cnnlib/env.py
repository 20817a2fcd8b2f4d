"""What the run happened on: versions and hardware, for metrics and reports."""

from __future__ import annotations

import os
import platform
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def blas_info() -> list[dict]:
    """The BLAS/OpenMP libraries loaded in this process (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - declared dependency
        return []
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads")
    return [{k: info.get(k) for k in keep if info.get(k) is not None} for info in threadpool_info()]


def versions() -> dict:
    import numpy

    import cnnlib

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "cnnlib": cnnlib.__version__,
        "platform": platform.platform(),
    }


def hardware() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "blas": blas_info(),
        "openblas_env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")},
        "byteorder": sys.byteorder,
    }
