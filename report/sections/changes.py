"""What changed: this build against the previous build's record and against the published
build (comparisons of two build records, made by ``workflow.builds.compare`` in the context
job and handed over as plain data). Runs pair up seed by seed between builds: a variant's
runs are identical (bit for bit), equivalent (the paired difference of final test accuracy
inside +-delta), changed, or inconclusive."""

from __future__ import annotations

from cnnlib.results import claim_words
from report import numbers as N
from report.sections.common import listing, table
from report.sections.comparisons import SHORT

ACC = N.DIGITS["accuracy"]


def _variants_table(cmp: dict) -> dict | None:
    """The variants whose retrained runs differ from the old ones (a variant whose runs all came
    out bit for bit the same is counted in the headline, not listed)."""
    rows = [[f"{v['experiment']}/{v['variant']}", str(v["n"]), N.fixed(v["mean_old"], ACC), N.fixed(v["mean_new"], ACC),
             N.fixed(v["difference"], ACC) + (f" {N.bracket(v['ci_low'], v['ci_high'], ACC)}"
                                              if v.get("ci_low") is not None else ""), v["verdict"]]
            for v in cmp["variants"] if v["verdict"] != "identical"]
    if not rows:
        return None
    return table(["Variant", "Seeds", "Old", "New", "New − old [95% CI]", "Verdict"], rows, "lrrrrl", "small")


def _retrained(cmp: dict) -> list[str]:
    """The retrained runs, grouped by reason (at most a few names per reason)."""
    by: dict[str, list[str]] = {}
    for r in cmp["retrained"]:
        by.setdefault(r["reason"], []).append(f"{r['experiment']}/{r['variant']}")
    out = []
    for reason, names in by.items():
        names = list(dict.fromkeys(names))
        shown = listing(names[:4] + ([f"{len(names) - 4} more"] if len(names) > 4 else []))
        out.append(f"{reason}: {shown}.")
    return out


def _conclusions(cmp: dict) -> list[str]:
    """Each comparison whose verdict changed, in words (``cnnlib.results.claim_words``)."""
    out = []
    for c in cmp["conclusions"]:
        what = SHORT.get(c["quantity"], c["quantity"])
        subject = (f"{c['variant_a']} against {c['variant_b']}, {what}" if c["variant_b"]
                   else f"does the {what} depend on the setting")
        out.append(f"{c['experiment']} ({subject}): {claim_words(c, c['old_claim'])} then, "
                   f"{claim_words(c, c['new_claim'])} now.")
    return out


def since_previous(cmp: dict | None) -> dict | None:
    """This build against the previous one: a headline, the retrained runs by reason, the
    variants whose runs changed, and the conclusions whose verdict changed."""
    if cmp is None:
        return None
    c = cmp["counts"]
    label = f"the build of {cmp['label']} UTC" + (f" (commit {cmp['commit']})" if cmp.get("commit") else "")
    quiet = not (cmp["retrained"] or cmp["removed"] or cmp["conclusions"] or cmp["variants"])
    if quiet:
        head = f"Since {label}: no change; all {c['new']} runs are bit for bit the same."
    else:
        changed = [v for v in cmp["variants"] if v["verdict"] == "changed"]
        head = (f"Since {label}: {N.plural(c['retrained'] + c['new_runs'], 'run')} retrained or new, "
                f"{N.plural(c['removed'], 'run')} gone, {c['identical']} of {c['shared']} shared runs bit for bit "
                f"the same; {N.plural(len(changed), 'variant')} changed beyond ±{N.fixed(cmp['delta'], 3)}, "
                f"{N.plural(len(cmp['conclusions']), 'verdict')} of comparisons.csv changed.")
    return {"head": head, "quiet": quiet, "retrained": _retrained(cmp), "variants": _variants_table(cmp),
            "conclusions": _conclusions(cmp)}


def against_published(cmp: dict | None) -> dict | None:
    """One paragraph: how this build compares with the published one - runs bit-identical,
    variants equivalent, changed - and whether a difference is bitwise only or beyond delta."""
    if cmp is None:
        return None
    if cmp.get("unrelated"):
        return {"text": f"Not compared with the published build ({cmp['path']}): {cmp['unrelated']}.", "short": ""}
    c, delta = cmp["counts"], N.fixed(cmp["delta"], 3)
    head = (f"Against the published build ({cmp['path']}, {cmp['label']}"
            + (f", commit {cmp['commit']}" if cmp.get("commit") else "") + f"): {c['identical']} of {c['shared']} "
            f"shared runs are bit for bit the same")
    if c["new_runs"] or c["removed"]:
        head += f", {c['new_runs']} runs are new and {c['removed']} gone"
    verdicts = {k: [f"{v['experiment']}/{v['variant']}" for v in cmp["variants"] if v["verdict"] == k]
                for k in ("equivalent", "changed", "inconclusive", "identical")}
    if not cmp["variants"]:
        tail = "; no variant's results differ."
    elif not verdicts["changed"] and not verdicts["inconclusive"]:
        machine = ", ".join(k for k in cmp.get("machine", {})) or "nothing recorded"
        tail = (f"; the runs of {N.plural(len(cmp['variants']), 'variant')} differ in their last bits only: every "
                f"one is equivalent within ±{delta} (the machines differ in: {machine}).")
    else:
        tail = (f"; changed beyond ±{delta}: {listing(verdicts['changed']) or 'none'}; inconclusive: "
                f"{listing(verdicts['inconclusive']) or 'none'}; equivalent: {len(verdicts['equivalent'])}.")
    flips = len(cmp["conclusions"])
    text = head + tail + (f" {N.plural(flips, 'verdict')} of comparisons.csv changed." if flips
                          else " No verdict of comparisons.csv changed.")
    beyond = len(verdicts["changed"]) + len(verdicts["inconclusive"])
    short = (f"Against the published build: {c['identical']} of {c['shared']} runs bit for bit the same"
             + ("" if not cmp["variants"] else
                f", every variant that differs within ±{delta}" if not beyond else
                f", {N.plural(beyond, 'variant')} not shown equivalent") + f", {N.plural(flips, 'verdict')} changed.")
    return {"text": text, "short": short}


def build(builds: dict | None) -> dict:
    builds = builds or {}
    return {"previous": since_previous(builds.get("previous")), "published": against_published(builds.get("published")),
            "damaged": builds.get("damaged")}
