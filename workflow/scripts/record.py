"""Keep the record of this build in the results folder's builds/ (workflow/builds.py)."""

import shutil

from workflow.builds import builds_dir, this_build, write_record

with open(snakemake.log[0], "w") as log:
    root = snakemake.params.root
    record = this_build(root, dict(snakemake.params.config), dict(snakemake.params.provenance),
                        dict(snakemake.params.data))
    path = write_record(builds_dir(root), record, snakemake.params.keep)
    shutil.copyfile(path, snakemake.output[0])  # the newest record, under a name that stays
    print(f"recorded this build: {path}", file=log)
