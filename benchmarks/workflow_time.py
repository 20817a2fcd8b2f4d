"""Time the full default workflow from a clean results/ folder.

Runs `snakemake --cores N` in a temporary copy of this repository (so your own results/
stay untouched) and prints the wall time, the number of jobs and the summed job times.

    python benchmarks/workflow_time.py [--cores 2] [--mnist DIR] [--configfile FILE]

Target (issue): all experiments x 5 seeds in <= 5 minutes with --cores 2 on a 2-core machine.
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from cnnlib.results import Layout  # noqa: E402

IGNORE = shutil.ignore_patterns(".git", ".venv", "results", ".snakemake", "__pycache__", "*.egg-info")


def cnn_epoch_cpu(runs_csv: Path) -> float | None:
    """Median CPU seconds per epoch of the CNN runs that trained (not copied), from runs.csv."""
    with open(runs_csv, newline="") as fh:
        values = [float(r["cpu_seconds_per_epoch"]) for r in csv.DictReader(fh)
                  if r["model"] == "reference_cnn" and not r["copied_from"] and r["cpu_seconds_per_epoch"]]
    return statistics.median(values) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--mnist", default=str(REPO.parent / "shared" / "data" / "mnist"),
                    help="folder with the MNIST files (default: ../shared/data/mnist)")
    ap.add_argument("--configfile", help="an extra config file (e.g. config/quick.yaml)")
    ap.add_argument("--target-seconds", type=float, default=300.0)
    ap.add_argument("--keep", type=Path, help="copy the results folder here afterwards")
    args = ap.parse_args()
    if not Path(args.mnist).is_dir():
        print(f"no MNIST folder at {args.mnist}; pass --mnist DIR", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(REPO, work, ignore=IGNORE)
        cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--quiet", "all",
               "--config", f"mnist_dir={Path(args.mnist).resolve()}"]
        if args.configfile:
            cmd += ["--configfile", str(Path(args.configfile).resolve())]
        env = {**os.environ, "PYTHONPATH": str(work)}
        print("running:", " ".join(cmd[2:]), flush=True)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=work, env=env)
        wall = time.perf_counter() - t0
        if r.returncode:
            print(f"the workflow failed (exit {r.returncode})", file=sys.stderr)
            return r.returncode
        root = "results"
        if args.configfile:  # a profile may put its results elsewhere (config/quick.yaml)
            import yaml

            root = (yaml.safe_load(Path(args.configfile).read_text()) or {}).get("results", root)
        layout = Layout(root)
        job_seconds = []
        for tsv in (work / layout.benchmark()).rglob("*.tsv"):
            with open(tsv, newline="") as fh:
                job_seconds += [float(row["s"]) for row in csv.DictReader(fh, delimiter="\t")]
        train = sum(job_seconds)
        print(f"wall time {wall:.0f} s with --cores {args.cores} "
              f"({len(job_seconds)} training jobs, {train:.0f} s of training job time in all)")
        runs_csv = work / layout.runs_csv
        epoch = cnn_epoch_cpu(runs_csv) if runs_csv.is_file() else None
        if epoch is not None:  # the machine's speed during the run: wall time follows it
            print(f"median CPU time of a CNN epoch in these runs: {epoch:.2f} s")
        verdict = "PASS" if wall <= args.target_seconds else "FAIL"
        print(f"target <= {args.target_seconds:.0f} s: {verdict}")
        if args.keep:
            shutil.copytree(work / "results", args.keep, dirs_exist_ok=True)
            print(f"results copied to {args.keep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
