#!/usr/bin/env bash
# A single-host Slurm cluster for tests: slurmctld and slurmd on localhost, as root, with a
# generated slurm.conf in DIR (auth/none: Debian 12's Slurm 22.05 still ships it, so no munge
# key is needed; the node advertises 4 GPUs as plain generic resources without device files,
# so job scripts asking --gres=gpu:1 run unchanged on a machine without a GPU).
#   scripts/slurm-local.sh start DIR   writes DIR/slurm.conf, starts the daemons, waits for the node
#   scripts/slurm-local.sh stop DIR    stops the daemons started with DIR
# Then use sbatch/squeue with SLURM_CONF=DIR/slurm.conf. Installed by `scripts/setup.sh --with-browser`.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
dir="$(mkdir -p "$dir" && cd "$dir" && pwd)"

stop() {
  for d in slurmd slurmctld; do
    if [ -f "$dir/$d.pid" ]; then
      pid="$(cat "$dir/$d.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "$0: unknown command '$cmd' (start or stop)" >&2; exit 2; }
for b in slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || { echo "slurm-local: '$b' not found: install Debian's slurm-wlm (scripts/setup.sh --with-browser does, as root)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "slurm-local: must run as root (slurmd starts job steps as their user)" >&2; exit 1; }
plugins="$(dirname "$(dpkg -L slurm-wlm-basic-plugins 2>/dev/null | grep -m1 '/auth_none.so$' || true)")"
[ -n "$plugins" ] && [ "$plugins" != . ] || { echo "slurm-local: this Slurm has no auth_none plugin (needs munge instead)" >&2; exit 1; }

host="$(hostname -s)"
cpus="$(nproc)"
mem="$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)"
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=serlocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
PluginDir=$plugins
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=60
SlurmdParameters=config_overrides
InactiveLimit=0
KillWait=5
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:4 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
# Slurm drops GPUs without device files: give it four stand-ins (empty files).
touch "$dir/fakegpu0" "$dir/fakegpu1" "$dir/fakegpu2" "$dir/fakegpu3"
cat > "$dir/gres.conf" <<CONF
NodeName=$host Name=gpu File=$dir/fakegpu[0-3]
CONF
export SLURM_CONF="$dir/slurm.conf"
trap 'echo "slurm-local: start failed; logs in $dir" >&2; stop' ERR
slurmctld -i -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"
for _ in $(seq 100); do
  if scontrol show node "$host" 2>/dev/null | grep -qE 'State=(IDLE|MIXED|ALLOCATED)'; then
    trap - ERR
    echo "slurm-local: up (SLURM_CONF=$dir/slurm.conf, node $host, $cpus CPUs, 4 fake GPUs)"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-local: the node did not come up within 20 s; slurmctld.log: $(tail -n 3 "$dir/slurmctld.log" 2>/dev/null | tr '\n' ' '); slurmd.log: $(tail -n 3 "$dir/slurmd.log" 2>/dev/null | tr '\n' ' ')" >&2
stop
exit 1
