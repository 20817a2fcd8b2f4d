"""Checks of the workflow config that come before anything else reads it.

:func:`check_config_size`: size, depth and YAML aliases.

A few hundred bytes of YAML can hold an "alias bomb" (lists of lists of aliases) that
expands to billions of values when something walks it - the schema validator's error
message does. :func:`check_config_size` walks the config once with a budget and stops at
the first sign of trouble, in well under a second.

:func:`refuse_expanding_configfiles`: the same check of each ``--configfile`` file, run from the
workflow profile before Snakemake merges the files: the merge copies every mapping an alias
points to, so a bomb of mappings expands there, before the Snakefile runs.

:func:`check_config_text`: the strings the report prints fit their length limits and hold only
characters the PDF can print (report.charset), named by key before the schema check, whose message
for a too-long string is the string itself, twice.

"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from report.charset import describe, unprintable

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


def refuse_expanding_configfiles(paths) -> None:
    """Exit with a one-line message if a config file in ``paths`` is too large or expands too
    much (:func:`check_config_size`). Called by the workflow profile (profiles/default/config.yaml),
    which Snakemake evaluates before it merges the ``--configfile`` files: the merge expands
    aliases of mappings (a bomb of 1.3 kB: minutes and gigabytes). A file that is not YAML is
    left to Snakemake, which says so."""
    import yaml

    for path in paths or ():
        try:
            check_config_size(None, [path])  # the file's size, before reading it
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=yaml.FullLoader)  # as Snakemake reads it: aliases shared
            check_config_size(data, [path])
        except ConfigSizeError as exc:
            sys.exit(f"config: {exc}")
        except Exception:
            continue


#: the config strings the report prints, as key paths ("*": every entry of a mapping)
PRINTED = (("report", "title"), ("report", "author"), ("experiments", "*", "title"),
           ("experiments", "*", "question"), ("study", "description"), ("dataset", "name"), ("dataset", "items"),
           ("protocol_ablation", "title"), ("protocol_ablation", "default_description"),
           ("protocol_ablation", "readings", "*", "description"))


def _entries(node, path, key=()):
    """(dotted key, value) of every entry of ``node`` at ``path``."""
    if not path:
        yield ".".join(key), node
    elif isinstance(node, dict):
        head, rest = path[0], path[1:]
        for name in (list(node) if head == "*" else [head] if head in node else []):
            yield from _entries(node[name], rest, (*key, str(name)))


def _subschema(schema, path) -> dict:
    """The part of a JSON schema that describes the entries at ``path``."""
    for head in path:
        schema = schema.get("additionalProperties", {}) if head == "*" else schema.get("properties", {}).get(head, {})
    return schema


def check_config_text(config, schema) -> None:
    """Raise ValueError naming the key if a string the report prints (:data:`PRINTED`) is longer
    than its ``maxLength`` in ``schema`` or has a character the PDF cannot print. Other types are
    left to the schema check."""
    for path in PRINTED:
        limit = _subschema(schema, path).get("maxLength")
        for key, text in _entries(config, path):
            if not isinstance(text, str):
                continue
            if limit is not None and len(text) > limit:
                raise ValueError(f"{key}: {len(text):,} characters long; at most {limit:,}")
            bad = unprintable(text)
            if bad is not None:
                raise ValueError(f"{key}: character {describe(bad)} cannot be printed in the PDF; use Latin "
                                 "letters or Chinese (GB2312: simplified Chinese and Japanese kana)")

