"""The machine and software a report was built with."""

from __future__ import annotations

import importlib.metadata
import platform


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> str:
    import numpy  # noqa: F401 - loads the BLAS library threadpoolctl reports

    from cnnlib.env import blas_info

    for lib in blas_info():
        if lib.get("user_api") == "blas":
            kernel = f", {lib['architecture']} kernel" if lib.get("architecture") else ""
            return f"{lib.get('internal_api', '?')} {lib.get('version', '')}{kernel}".strip()
    return "unknown"


def capture() -> dict:
    """{label: value} in display order."""
    from cnnlib.env import _cpu_model, _memory_gb
    import os

    mem = _memory_gb()
    return {
        "Operating system": platform.platform(),
        "Python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "matplotlib": _version("matplotlib"),
        "snakemake": _version("snakemake"),
        "jinja2": _version("jinja2"),
        "BLAS": _blas(),
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count()),
        "Memory": f"{mem:.1f} GiB" if mem else "unknown",
    }
