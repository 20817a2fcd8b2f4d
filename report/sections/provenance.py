"""Appendix C: how this report was made - the machine, the commit, the command that rebuilds
it, the data, every run, and the numerical checks."""

from __future__ import annotations

from collections import Counter

from report import numbers as N
from report.sections.common import Inputs, table


def sharing(build_info: dict, runs: list[dict]) -> list[list[str]]:
    """How many training jobs could run at once in this build, and what share of a core the
    runs got while training (their CPU time over wall time): why the tables give CPU time."""
    cores, threads = build_info.get("cores"), build_info.get("threads") or 1
    cpus = build_info.get("training_cpus")
    if cores:
        jobs = max(1, min(cores, cpus or cores) // threads)
        limit = (f", of which training jobs use at most the {N.plural(cpus, 'CPU')} of this machine"
                 if cpus and cpus < cores else "")
        at_once = (f"up to {N.plural(jobs, 'training job')} at once (--cores {cores}{limit}; "
                   f"{N.plural(threads, 'BLAS thread')} each) on {build_info['environment'].get('Cores', '?')} cores")
    else:
        at_once = "a cluster executor: jobs on the cluster's nodes"
    shares = sorted(c / w for r in runs if not r.get("copied_from")  # a copy's times are its source's
                    and (c := N.number(r.get("train_cpu_seconds"))) and (w := N.number(r.get("train_seconds"))))
    if not shares:
        return [["Jobs at once", at_once]]
    share = (f"{N.percent(shares[len(shares) // 2])} of a core (median over {N.plural(len(shares), 'run')}; "
             f"{N.percent(shares[0])} to {N.percent(shares[-1])}): the tables give CPU time per epoch, which "
             f"depends far less than wall time on how many jobs shared the cores")
    return [["Jobs at once", at_once], ["CPU share while training", share]]


def compute_minutes(runs: list[dict]) -> float:
    """Training and evaluation time of the runs that trained, each epoch once: copies cost
    nothing, a continued run's times include those of the run it continues."""
    trained = [r for r in runs if not r.get("copied_from")]
    return sum(float(r["total_seconds"]) - (N.number(r.get("continued_seconds")) or 0.0) for r in trained) / 60


def runs_line(runs: list[dict]) -> str:
    """Provenance's "Runs": how many, their compute time, and how many were copied or continued."""
    trained = [r for r in runs if not r.get("copied_from")]
    continued = [r for r in trained if r.get("continued_from")]
    text = f"{len(runs)}, total compute {compute_minutes(runs):.1f} min"
    if len(trained) < len(runs):
        text += f" ({len(runs) - len(trained)} copied: same settings as another run)"
    if continued:
        text += f"; {len(continued)} continued: only the epochs beyond a shorter run with the same settings trained"
    return text


def run_table(runs: list[dict], plan: dict | None = None) -> dict:
    """One row per variant (runs.csv has one per run) with its seeds, their statuses, every
    seed's final test accuracy in seed order, and the range of the runs' times; variants in
    the plan's order (its experiments and their variants, as the sections print them), the
    others after them in runs.csv's order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["experiment"], r["variant"]), []).append(r)
    order = [(e["key"], v["name"]) for e in (plan or {}).get("experiments", []) for v in e["variants"]]
    rank = {k: i for i, k in enumerate(order)}
    rows = []
    for (experiment, variant), rs in sorted(groups.items(), key=lambda g: rank.get(g[0], len(rank))):
        rs = sorted(rs, key=lambda r: int(r["seed"]))
        seeds = [int(r["seed"]) for r in rs]
        status = ", ".join(f"{n} {s}" for s, n in Counter(r["status"] for r in rs).items())
        copied = sum(1 for r in rs if r.get("copied_from"))
        continued = sum(1 for r in rs if r.get("continued_from") and not r.get("copied_from"))
        notes = [f"{copied} copied"] * bool(copied) + [f"{continued} continued"] * bool(continued)
        if notes:
            status += f" ({', '.join(notes)})"
        times = [float(r["total_seconds"]) for r in rs]
        rows.append([
            experiment, variant,
            f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1
            else " ".join(map(str, seeds)),
            status, " ".join(N.kind(r.get("test_accuracy"), "accuracy") for r in rs),
            N.fixed(times[0], 1) if len(times) == 1 else f"{N.fixed(min(times), 1)}–{N.fixed(max(times), 1)}",
        ])
    return table(["Experiment", "Variant", "Seeds", "Status", "Test accuracy, by seed", "Time (s)"], rows,
                 "llllll", "footnote")


def data_rows(plan: dict) -> list[list[str]]:
    """The data the runs trained on: name, where from, and each file's SHA-256."""
    d = plan.get("data") or {}
    name = (plan.get("dataset") or {}).get("name", "MNIST")
    where = d.get("folder") or "downloaded from the MNIST mirrors"
    kind = ("the published MNIST files (their SHA-256 match)" if d.get("published_mnist", True)
            else "not the published MNIST: files of the same format with other content")
    rows = [["Data", f"{name}: {kind}; from {where}"]]
    for file, sha in (d.get("sha256") or {}).items():
        rows.append([file, sha])
    return rows


def build(inp: Inputs) -> dict:
    b = inp.build_info
    commit = b["commit"] if b["dirty"] is None else f"{b['commit']} (uncommitted changes: {'yes' if b['dirty'] else 'no'})"
    checks = [[r["layer"], r["settings"], r["gradient"], f"{float(r['relative_error']):.1e}",
               "yes" if r["passed"] in (True, "True") else "NO"] for r in inp.gradcheck]
    stab = [[f"{float(r['logit_scale']):g}",
             N.kind(r["loss"], "loss") if r["loss_finite"] in (True, "True") else "not finite",
             "yes" if r["gradient_finite"] in (True, "True") else "NO",
             N.kind(r["naive_loss"], "loss") if r["naive_finite"] in (True, "True") else "not finite"]
            for r in inp.stability]
    return {
        "environment": table(["", ""], [[k, str(v)] for k, v in b["environment"].items()] + sharing(b, inp.runs),
                             ["l", 0.7], "small"),
        "table": table(["", ""], [["Commit", commit], ["Config hash", b["config_hash"]],
                                  ["Results date", b["results_date"]], ["Runs", runs_line(inp.runs)],
                                  *data_rows(inp.plan)], ["l", 0.75], "small"),
        "command": b["command"],
        "runs": run_table(inp.runs, inp.plan),
        "gradcheck": table(["Layer", "Case", "Gradient", "Rel. error", "Passed"], checks, "lllrl", "footnote"),
        "stability": table(["Logit scale", "Loss", "Gradient finite", "Naive softmax loss"], stab, "rrrr", "small"),
    }
