"""The workflow: every experiment of config/config.yaml over every seed, then the report.

Wiring only: the rules are in workflow/rules/, the logic in workflow/*.py and report/.
"""

from snakemake.utils import min_version

min_version("9.0")

from workflow.scheduling import coalesce_reevaluations, look_behind_ancient_inputs
from workflow.study import study_config

# one pending re-evaluation timer at a time (Snakemake otherwise starts a chain per finished job)
coalesce_reevaluations()
# jobs below a rerunning job through ancient() inputs are checked for their own reasons
look_behind_ancient_inputs()


configfile: "config/config.yaml"


# a config file with a `study` key replaces the default study (workflow/study.py)
_STUDY = study_config(
    "config/config.yaml",
    workflow.config_settings.configfiles,
    workflow.config_settings.config,
)
if _STUDY is not None:
    config.clear()
    config.update(_STUDY)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/checks.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/builds.smk"


# quick steps that read many files or need the internet stay on the submitting machine
localrules:
    all,
    mnist,
    summarize,
    all_runs,
    comparisons,
    figure,
    build_info,
    report_context,
    render,
    pdf,
    record,


rule all:
    default_target: True
    input:
        [R.summary(e) for e in EXPERIMENTS],
        [R.curves(e) for e in EXPERIMENTS],
        R.runs_csv,
        R.comparisons,
        R.gradcheck,
        R.stability,
        [R.visual] if PLAN.visual else [],
        R.md,
        R.pdf,
        R.build_record,


# one target per experiment: `snakemake --cores 4 learning_rate`
RULE_NAMES = {r.name for r in workflow.rules}
for _experiment in EXPERIMENTS:
    if _experiment in RULE_NAMES:
        raise WorkflowError(
            f"config: experiments.{_experiment}: the name is taken by a rule of the workflow "
            f"({', '.join(sorted(RULE_NAMES))}); rename the experiment"
        )

    rule:
        name:
            _experiment
        default_target: False
        input:
            R.summary(_experiment),
            R.curves(_experiment),
