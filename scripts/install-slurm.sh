#!/usr/bin/env bash
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, sbatch...) for the Slurm job-array
# test (test/slurm.test.ts), which starts a single-host cluster with scripts/slurm-local.sh.
# Needs root and apt-get; safe to run again. Without it the Slurm test fails, naming the cause.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-slurm: missing slurm-wlm; install it as root (apt-get install slurm-wlm), or the Slurm test fails (SER_SKIP_SLURM=1 skips it)" >&2
  exit 0
fi
echo "install-slurm: installing slurm-wlm (a local Slurm cluster for the job-array test)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends slurm-wlm >/dev/null
