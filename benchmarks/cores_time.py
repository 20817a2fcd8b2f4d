"""Do the report's times depend on how many jobs share the cores?

Runs the quick profile twice from a clean results folder in a temporary copy of this
repository, with ``--cores 2`` and with ``--cores 4`` (on a 2-core machine the second runs
the summaries and figures beside two training jobs: the workflow's ``training_cpus`` limit
keeps training to the machine's CPUs), and compares what the report prints per variant: CPU
seconds per epoch (process CPU time of training), and for contrast the wall-clock seconds
per epoch.

    python benchmarks/cores_time.py [--mnist DIR] [--configfile config/quick.yaml] [--iterations N]

The ``--cores 2`` run is made twice: how much a variant's time moves between two identical
runs is the noise floor any comparison has to be read against.

Target: the reported (CPU) times change by less than 20% between the two, all variants
together and per variant (or, per variant, by no more than between the two identical runs).
The quick profile's epochs are 10 iterations (about 0.02 s of CPU): at that size a variant's
time moves by 20-40% between identical runs on this machine; ``--iterations N`` runs the quick
profile with N iterations per epoch to measure above that noise.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", ".venv", "results", ".snakemake", "__pycache__", "*.egg-info")


def per_variant(runs_csv: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """{(experiment, variant): (mean CPU s/epoch, mean wall s/epoch)} over the runs of runs.csv."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with open(runs_csv, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["cpu_seconds_per_epoch"] and r["seconds_per_epoch"]:
                groups.setdefault((r["experiment"], r["variant"]), []).append(
                    (float(r["cpu_seconds_per_epoch"]), float(r["seconds_per_epoch"])))
    return {k: (statistics.fmean(c for c, _ in v), statistics.fmean(w for _, w in v)) for k, v in groups.items()}


def run(work: Path, cores: int, mnist: str, configfiles: list[str], results: Path) -> dict:
    shutil.rmtree(work / "results", ignore_errors=True)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all", "--configfile",
           *configfiles, "--config", f"mnist_dir={Path(mnist).resolve()}"]
    r = subprocess.run(cmd, cwd=work, env={**os.environ, "PYTHONPATH": str(work)}, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"--cores {cores}: the workflow failed:\n{r.stderr[-3000:]}")
    return per_variant(work / results / "summary" / "runs.csv")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", default=str(REPO.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--configfile", default="config/quick.yaml")
    ap.add_argument("--results", default="results/quick", help="the profile's results folder")
    ap.add_argument("--target", type=float, default=0.20, help="largest relative change allowed")
    ap.add_argument("--iterations", type=int, help="iterations per epoch (default: the profile's)")
    args = ap.parse_args()
    if not Path(args.mnist).is_dir():
        print(f"no MNIST folder at {args.mnist}; pass --mnist DIR", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} CPUs here")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(REPO, work, ignore=IGNORE)
        configs = [str((REPO / args.configfile).resolve())]
        if args.iterations:
            # enough training images for that many batches of the profile's batch size (100)
            # images per epoch, as the quick profile sets them (a run may not set both)
            (work / "iterations.yaml").write_text(f"defaults: {{images_per_epoch: {100 * args.iterations}, "
                                                  f"data: {{train_limit: {100 * args.iterations}}}}}\n")
            configs.append(str(work / "iterations.yaml"))
        two = run(work, 2, args.mnist, configs, Path(args.results))
        again = run(work, 2, args.mnist, configs, Path(args.results))
        four = run(work, 4, args.mnist, configs, Path(args.results))
    print(f"{'variant':36s} {'CPU s/epoch':>34s} {'wall s/epoch':>22s}")
    print(f"{'':36s} {'--cores 2':>10s} {'again':>11s} {'--cores 4':>11s} {'--cores 2':>10s} {'--cores 4':>11s}")
    for key in sorted(two):
        print(f"{'/'.join(key):36s} {two[key][0]:10.4f} {again[key][0]:11.4f} {four[key][0]:11.4f} "
              f"{two[key][1]:10.4f} {four[key][1]:11.4f}")

    def ratios(a, b, i=0):
        return [b[k][i] / a[k][i] for k in sorted(a)]

    def together(a, b, i=0):
        return sum(b[k][i] for k in a) / sum(a[k][i] for k in a) - 1

    cpu, noise, wall = ratios(two, four), ratios(two, again), ratios(two, four, 1)
    print(f"all variants together, --cores 4 against --cores 2: CPU s/epoch {together(two, four):+.0%}, "
          f"wall s/epoch {together(two, four, 1):+.0%}; --cores 2 run twice: CPU {together(two, again):+.0%}")
    print(f"per variant, ratio --cores 4 / --cores 2: CPU median {statistics.median(cpu):.2f} "
          f"(range {min(cpu):.2f}-{max(cpu):.2f}), wall median {statistics.median(wall):.2f} "
          f"(range {min(wall):.2f}-{max(wall):.2f})")
    print(f"per variant, noise floor (--cores 2 run twice): CPU range {min(noise):.2f}-{max(noise):.2f}")
    worst, floor = max(abs(r - 1) for r in cpu), max(abs(r - 1) for r in noise)
    total = abs(together(two, four))
    ok = total < args.target and worst < max(args.target, floor)
    print(f"reported (CPU) time: all together {total:.0%}, largest per variant {worst:.0%} (noise floor {floor:.0%}); "
          f"target < {args.target:.0%} (per variant: or within the noise floor): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
