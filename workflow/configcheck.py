"""Checks of the workflow config that come before anything else reads it.

:func:`check_config_size`: size, depth and YAML aliases.

A few hundred bytes of YAML can hold an "alias bomb" (lists of lists of aliases) that
expands to billions of values when something walks it - the schema validator's error
message does. :func:`check_config_size` walks the config once with a budget and stops at
the first sign of trouble, in well under a second.

:func:`check_mnist_dir`: the folder given as ``mnist_dir`` exists and holds the files.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_FILE_BYTES = 1_000_000
MAX_VALUES = 100_000
MAX_DEPTH = 32


class ConfigSizeError(ValueError):
    """The config is too large, too deep or expands too much to be a real config."""


def check_config_size(config, files=(), max_values=MAX_VALUES, max_depth=MAX_DEPTH,
                      max_file_bytes=MAX_FILE_BYTES) -> int:
    """Raise :class:`ConfigSizeError` if a config file is larger than ``max_file_bytes``,
    or the config (aliases expanded) holds more than ``max_values`` values or nests
    deeper than ``max_depth``. Returns the number of values seen."""
    for f in files:
        try:
            size = os.path.getsize(f)
        except OSError:
            continue
        if size > max_file_bytes:
            raise ConfigSizeError(f"config file {f} is {size:,} bytes; a workflow config is at most "
                                  f"{max_file_bytes:,}")
    seen = 0
    stack = [(config, 1)]
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > max_values:
            raise ConfigSizeError(
                f"the config expands to more than {max_values:,} values (YAML aliases repeated inside "
                f"each other?); config files: {', '.join(map(str, files)) or 'none'}")
        if depth > max_depth:
            raise ConfigSizeError(f"the config nests deeper than {max_depth} levels; config files: "
                                  f"{', '.join(map(str, files)) or 'none'}")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            seen += len(node)  # the keys
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)
    return seen


def check_mnist_dir(folder, names) -> None:
    """The folder named by ``mnist_dir`` holds the files ``names`` (raw or ``.gz``);
    raises ValueError saying what to do."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError(f"mnist_dir: {folder} is not a folder; give the folder holding the four MNIST "
                         "files, or leave out --config mnist_dir to download them")
    missing = [n for n in names if not (path / n).is_file() and not (path / f"{n}.gz").is_file()]
    if missing:
        raise ValueError(f"mnist_dir: {folder} lacks {', '.join(missing)} (raw or .gz); put the four MNIST "
                         "files there, or leave out --config mnist_dir to download them")
