"""A study is a config file.

``config/config.yaml`` holds the default study, the 2018 report's experiments, and the
settings of the machine and the build (``mnist_dir``, ``results``, ``threads``, ``plots``).
Any config file given with ``--configfile`` overrides it key by key, as Snakemake merges
them - except a *study file*: a config file with a top-level ``study`` key. A study file
replaces the default study as a whole (every key of :data:`STUDY_KEYS`: its experiments, its
defaults, seeds, special pieces and report settings) and keeps the machine's settings; the
other config files (``config/quick.yaml``) then override the study key by key, in their
order, wherever they stand on the command line, and ``--config`` last. So ``snakemake --configfile my_study.yaml`` runs exactly the study in that file, and
``--configfile config/quick.yaml my_study.yaml`` runs it at the quick profile's scale.

A study writes to its own folder, ``results/STUDY`` (the study's ``study.name``), unless it
sets ``results`` itself; a profile's folder (``results/quick``) then goes inside it
(``results/STUDY/quick``), so that no two studies or profiles share a file.
"""

from __future__ import annotations

from pathlib import Path

from workflow.experiments import merge

#: The keys that make up a study; the others are the machine's and the build's settings.
STUDY_KEYS = ("study", "dataset", "defaults", "experiments", "seeds", "baseline", "architectures", "visual",
              "protocol_ablation", "reference", "report", "delta", "published_build")


def is_study(config: dict) -> bool:
    return isinstance(config, dict) and "study" in config


def assemble(default: dict, files: list[tuple[str, dict]], cli: dict) -> dict | None:
    """The config when a study file is among ``files`` (``[(path, its config)]`` in command-line
    order; ``cli``: the ``--config`` settings); None when there is none (Snakemake's merge
    stands). See the module docstring."""
    if not any(is_study(c) for _, c in files):
        return None
    config = {k: v for k, v in default.items() if k not in STUDY_KEYS}
    study_results = profile_results = None
    for _, c in files:  # the study (the last study file, if several), over the machine's settings
        if is_study(c):
            config = {k: v for k, v in config.items() if k not in STUDY_KEYS}
            study_results = c.get("results")
            config = merge(config, {k: v for k, v in c.items() if k != "results"})
    for _, c in files:  # then the other files, key by key in their order: a profile's scale
        if not is_study(c):
            if "results" in c:
                profile_results = c["results"]
            config = merge(config, {k: v for k, v in c.items() if k != "results"})
    config = merge(config, dict(cli))
    name = (config.get("study") or {}).get("name") if isinstance(config.get("study"), dict) else None
    root = study_results or f"results/{name or 'study'}"
    if "results" in cli:
        config["results"] = cli["results"]
    elif profile_results:
        tail = str(profile_results)[len("results"):] if str(profile_results).startswith("results") else \
            f"/{profile_results}"
        config["results"] = root.rstrip("/") + tail
    else:
        config["results"] = root
    return config


def load_files(paths) -> list[tuple[str, dict]]:
    """``[(path, config)]`` of config files, read as Snakemake reads them."""
    from snakemake.common.configfile import load_configfile

    return [(str(p), load_configfile(str(p)) or {}) for p in paths]


def study_config(default_path, configfiles, cli) -> dict | None:
    """:func:`assemble` for the files Snakemake was given (see :func:`load_files`)."""
    files = [f for f in load_files(configfiles) if Path(f[0]).resolve() != Path(default_path).resolve()]
    return assemble(load_files([default_path])[0][1], files, dict(cli or {}))
