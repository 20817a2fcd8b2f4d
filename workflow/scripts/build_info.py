"""Environment and provenance, captured when the report is built."""

from cnnlib.io import write_json
from report.environment import capture

with open(snakemake.log[0], "w") as log:
    info = {
        "environment": capture(),
        "commit": snakemake.params.commit,
        "dirty": snakemake.params.dirty,
        "config_hash": snakemake.params.config_hash,
        "command": snakemake.params.command,
        "cores": snakemake.params.cores,
        "threads": snakemake.params.threads,
        "training_cpus": snakemake.params.training_cpus,
    }
    write_json(snakemake.output[0], info)
    print(info, file=log)
