#!/usr/bin/env bash
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, sbatch...) for the Slurm job-array
# test (test/slurm.test.ts), which starts a single-host cluster with scripts/slurm-local.sh.
# Needs root and apt-get; safe to run again. Without it the Slurm test fails, naming the cause.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null; then
  exit 0
fi
bash "$(dirname "$0")/apt-install.sh" install-slurm "a local Slurm cluster for the job-array test, which fails without it; SER_SKIP_SLURM=1 skips it" slurm-wlm
