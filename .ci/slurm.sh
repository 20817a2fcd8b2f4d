#!/usr/bin/env bash
# CI step: the workflow on a real single-node SLURM cluster, started on this machine.
#
# Installs SLURM + munge (apt) and snakemake-executor-plugin-slurm, writes
# /etc/slurm/slurm.conf, starts munged, slurmctld and slurmd, runs a small config of the
# workflow through `snakemake --profile profiles/slurm` in a temporary copy of the repo,
# runs the same config locally in another copy, and checks that every run's metrics,
# history, weights and optimizer state are identical (times may differ). Before that, dry
# runs through the profile count the SLURM jobs (group jobs + ungrouped cluster jobs) of the default config
# (fails above 20) and of the CI config; after the SLURM run it checks that exactly that
# many jobs were submitted and prints what each asked SLURM for (CPUs, memory, time limit),
# checking a group job's time limit against the sum of its runs'. Every daemon it started is
# stopped by PID when it exits, whatever happens; a previous /etc/slurm/slurm.conf is put
# back. The whole step runs under `timeout` (SLURM_CI_TIMEOUT seconds, default 600);
# SLURM_CI_KEEP=1 keeps the copies and logs in /tmp/slurm-ci.* after a pass too.
#
# Needs root and apt-get (Debian/Ubuntu), and Python with the workflow's packages: the
# project's .venv (./setup.sh) if it exists, else python3. MNIST comes from
# $CNNLIB_MNIST or ../shared/data/mnist beside the repo.
#   .ci/slurm.sh
set -euo pipefail

if [ -z "${_SLURM_CI_INNER:-}" ]; then
  _SLURM_CI_START=$(date +%s)
  export _SLURM_CI_INNER=1 _SLURM_CI_START
  exec timeout --kill-after=20 "${SLURM_CI_TIMEOUT:-600}" bash "$0" "$@"
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
mnist="${CNNLIB_MNIST:-$repo/../shared/data/mnist}"
say() { echo "== slurm-ci: $*"; }
die() { echo "== slurm-ci: FAILED: $*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - _SLURM_CI_START )); }

# what the comparison runs: 3 variants x 2 seeds on a small part of MNIST (quick.yaml),
# plus the checks and the visual job (which needs a trained run). The profile groups the
# training runs (`groups`/`group-components`: up to 10 runs per SLURM job), so the 6 runs
# make 1 group job and SLURM sees 3 jobs. The number expected is read from a dry
# run of the same command and checked against ceil(runs / group size) + ungrouped jobs.
configfile=config/quick.yaml
out=results/quick  # the quick profile's results folder
targets=(baseline cnn_vs_mlp $out/checks/gradcheck.csv $out/visual/conv1_maps.npz)
cluster_rules="train|checks|visual"   # the rules that are not `localrules` in the Snakefile
max_default_jobs=20                   # SLURM jobs the default config may submit in all

[ "$(id -u)" = 0 ] || die "needs root (installs packages, writes /etc/slurm, starts daemons)"
[ -d "$mnist" ] || die "no MNIST folder at $mnist (set CNNLIB_MNIST)"
mnist="$(cd "$mnist" && pwd)"
for d in slurmctld slurmd; do
  if pid=$(pgrep -x "$d"); then
    die "a $d is already running (pid $pid); this step starts its own cluster - stop it first"
  fi
done

# --- packages ---------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
if [ -x "$repo/.venv/bin/python" ]; then py="$repo/.venv/bin/python"; else py="$(command -v python3)"; fi
"$py" -c "import snakemake, numpy, yaml" 2>/dev/null \
  || die "$py lacks the workflow's packages: run ./setup.sh (or pip install -e '.[workflow]') first"
PIP_ROOT_USER_ACTION=ignore "$py" -m pip install -q --disable-pip-version-check "snakemake-executor-plugin-slurm>=2.8,<3" \
  || die "could not install snakemake-executor-plugin-slurm into $py"
say "snakemake $("$py" -m snakemake --version), plugin $("$py" -m pip show snakemake-executor-plugin-slurm | sed -n 's/^Version: //p'), $(slurmctld -V), python $py"

# --- cleanup: runs on every exit, also on timeout (SIGTERM) and Ctrl-C ------------------
tmp="$(mktemp -d /tmp/slurm-ci.XXXXXX)"
conf=/etc/slurm/slurm.conf
daemons=()   # "name:pid", in start order
smk_pid=""   # the snakemake run in progress
ok=0
cleanup() {
  local rc=$? name pid i
  local -a kids
  trap - EXIT INT TERM
  set +e
  if [ -n "$smk_pid" ] && kill -0 "$smk_pid" 2>/dev/null; then
    # SIGINT: Snakemake cancels its SLURM jobs and stops (on SIGTERM it would wait for them)
    kill -INT "$smk_pid"
    for _ in $(seq 75); do kill -0 "$smk_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$smk_pid" 2>/dev/null && kill -KILL "$smk_pid"
    wait "$smk_pid" 2>/dev/null
    echo "== slurm-ci: stopped snakemake (pid $smk_pid)"
  fi
  if [ "$ok" != 1 ] && [ -d "$tmp/log" ]; then
    for f in "$tmp"/log/{munged,slurmctld,slurmd}.log; do
      [ -s "$f" ] && { echo "--- tail $f"; tail -n 15 "$f"; }
    done
  fi
  if [ ${#daemons[@]} -gt 0 ] && command -v scancel >/dev/null; then
    scancel --quiet "--user=$(id -un)" 2>/dev/null   # our cluster: every job is ours
    for _ in $(seq 50); do
      [ -z "$(squeue -h -t PENDING,RUNNING,COMPLETING 2>/dev/null)" ] && break; sleep 0.2
    done
  fi
  for (( i=${#daemons[@]}-1; i>=0; i-- )); do
    name=${daemons[i]%%:*} pid=${daemons[i]##*:}
    mapfile -t kids < <(pgrep -P "$pid")   # e.g. slurmstepd of a job still running
    kill -TERM "$pid" "${kids[@]}" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "== slurm-ci: $name (pid $pid) ignored SIGTERM, killing it"; kill -KILL "$pid" "${kids[@]}" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    echo "== slurm-ci: stopped $name (pid $pid)"
  done
  if [ -e "$tmp/slurm.conf.before" ]; then mv -f "$tmp/slurm.conf.before" "$conf"
  elif [ -e "$tmp/slurm.conf.ours" ]; then rm -f "$conf"; fi
  if [ "$ok" = 1 ] && [ -z "${SLURM_CI_KEEP:-}" ]; then rm -rf "$tmp"; else echo "== slurm-ci: logs and copies kept in $tmp"; fi
  echo "== slurm-ci: $([ "$ok" = 1 ] && echo passed || echo FAILED) in $(elapsed) s"
  [ "$ok" = 1 ] && exit 0
  exit $(( rc == 0 ? 1 : rc ))
}
trap cleanup EXIT
trap 'echo "== slurm-ci: interrupted (timeout or signal)" >&2; exit 124' INT TERM

# --- the same config locally and through SLURM, each in its own copy of the repo ----------
copy() {  # the working tree without outputs, environments and caches
  mkdir -p "$2"
  tar -C "$1" -c --exclude=./.git --exclude=./.venv --exclude=./results --exclude=./resources \
    --exclude=./.snakemake --exclude=__pycache__ --exclude=.pytest_cache . | tar -C "$2" -x
}
mkdir -p "$tmp/log"
copy "$repo" "$tmp/slurm"
copy "$repo" "$tmp/local"
common=(--configfile "$configfile" --config "mnist_dir=$mnist")
snakemake_in() {  # DIR LOG ARGS...: snakemake in a copy, in the background so a signal is seen
  local dir=$1 log=$2 rc=0
  shift 2
  (cd "$dir" && PYTHONPATH="$dir" exec "$py" -m snakemake "$@") >"$tmp/log/$log" 2>&1 &
  smk_pid=$!
  wait "$smk_pid" || rc=$?
  smk_pid=""
  [ "$rc" = 0 ] || { tail -n 40 "$tmp/log/$log"; echo "== slurm-ci: snakemake exit code $rc"; }
  return "$rc"
}

# --- how many SLURM jobs: dry runs through the profile (no cluster needed) -------------------
# `snakemake -n` lists each group job as "Group job <group> (jobs ...):" followed by its
# jobs, indented; an ungrouped job is a "rule <name>:" at the start of a line.
plan() {  # LOG: prints "JOBS GROUPS SIZES UNGROUPED TRAIN_RUNS"; fails if grouping is off
  "$py" - "$1" "$cluster_rules" "$tmp/slurm/profiles/slurm/config.yaml" <<'EOF'
import math, re, sys
import yaml

log, rules, profile = sys.argv[1], re.compile(f"^(?:{sys.argv[2]})$"), sys.argv[3]
size = int((yaml.safe_load(open(profile)).get("group-components") or {}).get("train", 1))
groups, ungrouped, train, copies, last = [], 0, 0, 0, None
for line in open(log):
    if re.match(r"^\[.*\] Group job \S+ ", line):
        groups.append(0)
    elif m := re.match(r"^    rule (\w+):$", line):      # a job inside the group above
        groups[-1] += 1
        train += m[1] == "train"
        last = m[1]
    elif last == "train" and line.startswith("        input: "):
        # a run with the settings of another copies its files: it needs that run, so the
        # two are one connected component, and a group holds `size` components
        copies += "metrics.json" in line
        last = None
    elif (m := re.match(r"^rule (\w+):$", line)) and rules.match(m[1]):
        ungrouped += 1
        train += m[1] == "train"
        if m[1] == "train":
            sys.exit(f"a train job outside any group in {log}")
if train and len(groups) != math.ceil((train - copies) / size):
    sys.exit(f"{train} runs ({copies} of them copies, each with the run it copies) in groups of {size} "
             f"should make {math.ceil((train - copies) / size)} group jobs, the dry run shows {len(groups)}: {groups}")
sizes = "+".join(map(str, sorted(groups, reverse=True))) or "-"
print(len(groups) + ungrouped, len(groups), sizes, ungrouped, train)
EOF
}
slurm_args=(--slurm-no-account --slurm-status-command squeue
  --slurm-init-seconds-before-status-checks 1 --slurm-keep-successful-logs)
snakemake_in "$tmp/slurm" dryrun-default.log -n --profile profiles/slurm \
  --config "mnist_dir=$mnist" || die "dry run of the default config failed"
read -r n g sizes u runs < <(plan "$tmp/log/dryrun-default.log") || die "dry run of the default config: grouping"
say "default config (dry run): $runs training runs in $g group jobs ($sizes runs) + $u other cluster jobs = $n SLURM jobs (at most $max_default_jobs)"
[ "$n" -le "$max_default_jobs" ] || die "the default config would submit $n SLURM jobs, more than $max_default_jobs"
snakemake_in "$tmp/slurm" dryrun-ci.log -n --profile profiles/slurm "${common[@]}" \
  "${slurm_args[@]}" -- "${targets[@]}" || die "dry run of the CI config failed"
read -r cluster_jobs g sizes u train_runs < <(plan "$tmp/log/dryrun-ci.log") || die "dry run of the CI config: grouping"
say "CI config (dry run): $train_runs training runs in $g group jobs ($sizes runs) + $u other cluster jobs = $cluster_jobs SLURM jobs expected"

# locally first: a broken workflow fails here, before any daemon starts
t0=$(date +%s)
say "local run: snakemake --cores 2 ${targets[*]}"
snakemake_in "$tmp/local" snakemake-local.log --cores 2 "${common[@]}" -- "${targets[@]}" \
  || die "the local run failed (log above)"
t_local=$(( $(date +%s) - t0 ))
say "local run ${t_local} s"

# --- a one-node cluster -------------------------------------------------------------------
mkdir -p "$tmp"/{state,spool}
host="$(hostname -s)"
cpus="$(nproc)"
mem_avail_mb=$(( $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) / 1024 ))
real_mb=$(( mem_avail_mb * 8 / 10 ))
mkdir -p /etc/slurm
[ -e "$conf" ] && cp -p "$conf" "$tmp/slurm.conf.before"
# /etc/slurm/slurm.conf, not SLURM_CONF: the plugin's job step drops every SLURM_* variable
cat >"$conf" <<EOF
# written by .ci/slurm.sh for a throwaway one-node cluster; removed when it exits
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# finished jobs stay visible to squeue for 1 h: the executor reads their state there, and
# the step counts the run's submissions there at the end
MinJobAge=3600
ReturnToService=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
touch "$tmp/slurm.conf.ours"

# munged as user munge (it refuses to run as root); reuse one that already runs
if [ ! -s /etc/munge/munge.key ]; then
  (umask 077; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none)
  chown munge:munge /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running, using it"
else
  setsid setpriv --reuid=munge --regid=munge --init-groups munged -F \
    </dev/null >"$tmp/log/munged.log" 2>&1 &
  daemons+=("munged:$!")
  for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n </dev/null | unmunge >/dev/null || die "munged did not start"
fi
setsid slurmctld -D -i </dev/null >"$tmp/log/slurmctld.out.log" 2>&1 &
daemons+=("slurmctld:$!")
setsid slurmd -D </dev/null >"$tmp/log/slurmd.out.log" 2>&1 &
daemons+=("slurmd:$!")
say "started ${daemons[*]} (name:pid); node $host: $cpus CPUs, ${real_mb} MB"
state=""
for _ in $(seq 120); do
  state="$(sinfo -h -N -o %T 2>/dev/null | head -n1)"
  [ "$state" = idle ] && break
  for entry in "${daemons[@]}"; do
    kill -0 "${entry##*:}" 2>/dev/null || die "${entry%%:*} exited"
  done
  sleep 0.5
done
[ "$state" = idle ] || die "node not idle after 60 s (state: ${state:-none})"
say "node idle ($(elapsed) s since the start)"

t0=$(date +%s)
say "SLURM run: snakemake --profile profiles/slurm ${targets[*]}"
# the profile as users run it, plus what a cluster without accounting (slurmdbd) needs
snakemake_in "$tmp/slurm" snakemake-slurm.log --profile profiles/slurm "${common[@]}" \
  --jobs $(( 2 * cpus )) "${slurm_args[@]}" -- "${targets[@]}" \
  || die "the SLURM run failed (log above)"
t_slurm=$(( $(date +%s) - t0 ))

# the jobs really ran under SLURM: finished jobs stay in squeue for MinJobAge (1 h; our
# cluster: every job in it is from this run). Each job's request as SLURM recorded it, checked:
# a group job asks for the CPUs of one run (config `threads`; its runs run one after
# another), one run's memory (the profile's `resources: mem_mb`) and the sum of its runs'
# time limits (the `runtime` of each run listed in the job's SLURM log: 2 + epochs minutes);
# together the group jobs ran every training run of the dry run.
squeue -h --states=all -o '%i|%k|%C|%m|%l|%T' >"$tmp/log/squeue.txt" || true
submitted=$(grep -c 'has been submitted with SLURM jobid' "$tmp/log/snakemake-slurm.log" || true)
"$py" - "$tmp/log/squeue.txt" "$tmp/slurm" "$configfile" "$cluster_jobs" "$train_runs" "$submitted" <<'EOF' || die "SLURM jobs or their requests are not as expected"
import re, sys
from pathlib import Path

import yaml

squeue, root, configfile = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
expected, train_runs, submitted = map(int, sys.argv[4:7])
cfg = {}
for f in ("config/config.yaml", configfile):  # threads: top-level key, overridden as a whole
    cfg.update(yaml.safe_load((root / f).read_text()))
profile = yaml.safe_load((root / "profiles/slurm/config.yaml").read_text())
threads, mem = int(cfg["threads"]), int(profile["resources"]["mem_mb"])

def minutes(limit):  # squeue %l: [days-]hours:minutes:seconds, or minutes:seconds
    days, _, hms = limit.rpartition("-")
    parts = [int(p) for p in hms.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return int(days or 0) * 1440 + parts[0] * 60 + parts[1] + parts[2] / 60

logs = {p.stem: p for p in (root / ".snakemake/slurm_logs").rglob("*.log")}
bad, rows = [], []
jobs = [line.rstrip("\n").split("|") for line in squeue.read_text().splitlines() if line.strip()]
for jobid, comment, cpus, memory, limit, state in jobs:
    log = logs.get(jobid)
    text = log.read_text() if log else ""
    # the jobs Snakemake ran inside this SLURM job: "rule NAME:" ... "resources: ..., runtime=N"
    entries = re.findall(r"^rule (\w+):\n(?:(?!rule ).*\n)*?\s+wildcards: (.*)\n(?:(?!rule ).*\n)*?\s+resources: .*runtime=(\d+)",
                         text, re.M)
    runs = [e for e in entries if e[0] == "train"]
    group = comment.startswith("rule_train_")
    want = ""
    if state != "COMPLETED":
        bad.append(f"job {jobid} ({comment}): {state}")
    if group:
        total = sum(int(r[2]) for r in runs)
        want = f"{threads} CPU, {mem}M, {total} min"
        if not runs:
            bad.append(f"group job {jobid}: no runs found in its log {log}")
        if (int(cpus), memory, minutes(limit)) != (threads, f"{mem}M", total):
            bad.append(f"group job {jobid}: asks {cpus} CPU, {memory}, {limit}; expected {want}")
    rows.append((jobid, comment.removeprefix("rule_"), cpus, memory, limit, state, str(len(runs) or ""),
                 "+".join(r[2] for r in runs), want))
head = ("jobid", "job", "CPUs", "memory", "time limit", "state", "runs", "run limits (min)", "expected")
widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
if len(jobs) != expected or submitted != expected:
    bad.append(f"{len(jobs)} jobs in squeue, {submitted} submissions in the log; expected {expected}")
grouped = sum(int(r[6] or 0) for r in rows if r[1].startswith("train_"))
if grouped != train_runs:
    bad.append(f"the group jobs' logs list {grouped} training runs; the dry run has {train_runs}")
if bad:
    print("UNEXPECTED:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"{len(jobs)} SLURM jobs submitted, as the grouping predicts; {grouped} runs in "
      f"{sum(r[1].startswith('train_') for r in rows)} group jobs, each asking for {threads} CPU, "
      f"{mem} MB and the sum of its runs' time limits")
EOF

# --- compare ------------------------------------------------------------------------------
say "SLURM run ${t_slurm} s, local run ${t_local} s; comparing"
"$py" - "$tmp/slurm/$out" "$tmp/local/$out" <<'EOF' || die "SLURM and local results differ"
import json, sys
from pathlib import Path

import numpy as np

slurm, local = Path(sys.argv[1]), Path(sys.argv[2])

def comparable(metrics):
    """metrics.json without wall-clock times (and the environment, reported apart)."""
    m = {k: v for k, v in metrics.items() if k not in ("time", "versions", "hardware", "checksum")}
    m["epochs"] = [{k: v for k, v in e.items() if k != "seconds"} for e in m.get("epochs", [])]
    return m

def same_npz(a, b):
    with np.load(a) as x, np.load(b) as y:
        return sorted(x) == sorted(y) and all(np.array_equal(x[k], y[k]) for k in x)

runs_s = sorted(p.parent.relative_to(slurm) for p in slurm.glob("runs/*/*/seed-*/metrics.json"))
runs_l = sorted(p.parent.relative_to(local) for p in local.glob("runs/*/*/seed-*/metrics.json"))
bad = []
if not runs_s or runs_s != runs_l:
    bad.append(f"different run sets: SLURM {len(runs_s)}, local {len(runs_l)}")
rows = []
for run in sorted(set(runs_s) & set(runs_l)):
    ms, ml = (json.loads((root / run / "metrics.json").read_text()) for root in (slurm, local))
    checks = {
        "metrics": comparable(ms) == comparable(ml),
        "history": json.loads((slurm / run / "history.json").read_text())
        == json.loads((local / run / "history.json").read_text()),
        "weights": same_npz(slurm / run / "weights.npz", local / run / "weights.npz"),
        "optimizer": same_npz(slurm / run / "optimizer.npz", local / run / "optimizer.npz"),
    }
    if ms.get("versions") != ml.get("versions"):
        print(f"note: {run}: versions differ: {ms.get('versions')} vs {ml.get('versions')}")
    wrong = [k for k, v in checks.items() if not v]
    bad += [f"{run}: {k} differ" for k in wrong]
    name = "/".join(run.parts[-3:])
    rows.append((name, ms["status"], f"{ms['final']['test_accuracy']:.4f}",
                 f"{ml['final']['test_accuracy']:.4f}", f"{ms['final']['test_loss']:.6f}",
                 f"{ml['final']['test_loss']:.6f}", f"{ms['time']['total_seconds']:.1f}",
                 f"{ml['time']['total_seconds']:.1f}", "yes" if not wrong else "NO: " + ",".join(wrong)))
for extra, how in [("checks/gradcheck.csv", "bytes"), ("checks/loss_stability.csv", "bytes"),
                   ("visual/conv1_maps.npz", "npz")]:
    a, b = slurm / extra, local / extra
    same = a.exists() and b.exists() and (a.read_bytes() == b.read_bytes() if how == "bytes" else same_npz(a, b))
    rows.append((extra, "", "", "", "", "", "", "", "yes" if same else "NO"))
    if not same:
        bad.append(f"{extra} differs")
head = ("run", "status", "acc slurm", "acc local", "loss slurm", "loss local", "s slurm", "s local", "identical")
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
for r in [head] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
if bad:
    print("MISMATCH:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"{len(runs_s)} runs: metrics (all but times), history, weights and optimizer state identical under SLURM "
      "and locally")
EOF

ok=1
