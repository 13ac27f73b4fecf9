#!/usr/bin/env bash
# A Slurm cluster on loopback, for tests: one slurmctld and four slurmd
# (n1..n4, ports 16821-16824) with munge, all started by hand with a private
# slurm.conf in DIR, and stopped by their pids.
#
#   workflows/slurm/test/cluster.sh start DIR   # prints: export SLURM_CONF=DIR/slurm.conf
#   workflows/slurm/test/cluster.sh stop DIR
#
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge); run as
# root (the daemons and jobs run as the caller).
set -euo pipefail

cmd=${1:?usage: cluster.sh start|stop DIR}
dir=${2:?usage: cluster.sh start|stop DIR}

stop() {
  [ -f "$dir/pids" ] || return 0
  # slurmd first, slurmctld, munged last; each by its pid
  tac "$dir/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$dir/pids"
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: cluster.sh start|stop DIR" >&2; exit 2; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 755 "$dir"
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"
: > "$dir/pids"
host=$(hostname -s)
user=$(id -un)

# munge, with its own key and socket
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged -F --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
  >/dev/null 2>&1 &
echo "munged $!" >> "$dir/pids"
for _ in $(seq 100); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.05; done

cat > "$dir/slurm.conf" <<CONF
ClusterName=colnormtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
NodeName=n[1-4] NodeHostname=$host NodeAddr=127.0.0.1 Port=[16821-16824] CPUs=1 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=n[1-4] Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >> "$dir/pids"
for n in 1 2 3 4; do
  slurmd -D -N "n$n" -f "$SLURM_CONF" >"$dir/log/slurmd-n$n.out" 2>&1 &
  echo "slurmd-n$n $!" >> "$dir/pids"
done

# wait until the four nodes are idle
for _ in $(seq 300); do
  idle=$(sinfo -h -N -o '%N %t' 2>/dev/null | awk '$2 == "idle"' | wc -l || true)
  [ "$idle" -ge 4 ] && break
  sleep 0.1
done
if [ "${idle:-0}" -lt 4 ]; then
  echo "cluster.sh: the nodes did not come up:" >&2
  sinfo -N >&2 || true
  tail -n 20 "$dir"/log/*.log >&2 || true
  stop
  exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
