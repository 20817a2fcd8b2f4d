"""The record of every build (workflow/builds.py): once the report's context is made, the
build's runs, summaries, comparisons, config, code and data go into results/.../builds/, the
newest `builds_kept` of them kept. `python -m workflow.compare OLD NEW` compares two of them.
"""


rule record:
    input:
        runs=R.runs_csv,
        comparisons=R.comparisons,
        summaries=[R.summary(e) for e in EXPERIMENTS],
        # after the report's context, which compares this build with the newest record: a
        # template edit re-renders the report but makes no new record
        context=R.context,
    output:
        R.build_record,
    log:
        R.log("builds/record.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        root=lambda w, output: str(Path(output[0]).parent.parent),
        config=config,
        provenance=PROVENANCE,
        data=DATA.describe(),
        keep=config["builds_kept"],
        code=script_hash("record.py"),
    script:
        "../scripts/record.py"
