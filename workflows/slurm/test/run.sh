#!/usr/bin/env bash
# CI: a Slurm cluster on loopback runs workflows/slurm/normalize.sh, whose
# output must equal a single-machine run byte for byte; a shard that fails is
# resubmitted alone; then the Snakemake workflow does the same (when snakemake
# is installed). The daemons are stopped by their pids at the end, whatever
# happens. Needs root, slurm-wlm and munge (and snakemake for its part).
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$(pwd)
tmp=$(mktemp -d)
cleanup() {
  workflows/slurm/test/cluster.sh stop "$tmp/cluster" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/colnorm" ./cmd/colnorm
go build -o "$tmp/gen" ./bench/cmd/gen
"$tmp/gen" -genes 3000 -samples 48 -seed 5 -o "$tmp/counts.parquet" 2>/dev/null
C=$tmp/colnorm

same() { # same A B WHAT
  if ! cmp -s "$1" "$2"; then echo "FAIL: $3: $1 and $2 differ" >&2; exit 1; fi
  echo "ok: $3"
}

eval "$(workflows/slurm/test/cluster.sh start "$tmp/cluster")"
export SLURM_CONF
sinfo -N -h -o '%N %t' | tr '\n' ' '; echo

for spec in "ratio 4" "tmm 3" "poscounts 4"; do
  set -- $spec
  out=$tmp/slurm-$1
  start=$(date +%s%N)
  COLNORM=$C workflows/slurm/normalize.sh --method "$1" --shards "$2" "$tmp/counts.parquet" "$out"
  echo "slurm $1 over $2 shards: $(( ($(date +%s%N) - start) / 1000000 )) ms"
  "$C" convert -q "$out" "$tmp/sharded-$1.tsv"
  "$C" normalize --method "$1" -q "$tmp/counts.parquet" -o "$tmp/single-$1.tsv"
  "$C" size-factors --method "$1" -q "$tmp/counts.parquet" -o "$tmp/single-sf-$1.tsv"
  same "$tmp/sharded-$1.tsv" "$tmp/single-$1.tsv" "slurm $1: normalized matrix equals the single run"
  same "$out/size_factors.tsv" "$tmp/single-sf-$1.tsv" "slurm $1: size_factors.tsv equals the single run"
  [ "$(ls "$out"/part-*-of-0000"$2".parquet | wc -l)" = "$2" ] || { echo "FAIL: not $2 parts" >&2; exit 1; }
done

# A shard whose job fails once: the chain stops, the script says so (exit 1);
# the same command again resubmits that shard alone and finishes.
cat > "$tmp/flaky" <<FLAKY
#!/bin/sh
case "\$*" in *"--state-out "*"/pass2-3.state"*)
  if [ -e "$tmp/fail-once" ]; then rm "$tmp/fail-once"; echo "colnorm: simulated node failure" >&2; exit 1; fi ;;
esac
exec "$C" "\$@"
FLAKY
chmod +x "$tmp/flaky"
touch "$tmp/fail-once"
out=$tmp/slurm-flaky
if COLNORM=$tmp/flaky workflows/slurm/normalize.sh --method ratio --shards 4 "$tmp/counts.parquet" "$out" 2>"$tmp/flaky.err"; then
  echo "FAIL: normalize.sh succeeded although shard 3 failed" >&2; exit 1
fi
grep -q "simulated node failure" "$tmp/flaky.err" || { cat "$tmp/flaky.err" >&2; echo "FAIL: the failure was not reported" >&2; exit 1; }
[ ! -e "$out/size_factors.tsv" ] || { echo "FAIL: output written after a failure" >&2; exit 1; }
before=$(stat -c %Y.%N "$out/_colnorm/pass1-1.state")
COLNORM=$tmp/flaky workflows/slurm/normalize.sh --method ratio --shards 4 "$tmp/counts.parquet" "$out"
[ "$(stat -c %Y.%N "$out/_colnorm/pass1-1.state")" = "$before" ] || { echo "FAIL: pass 1 was rerun" >&2; exit 1; }
"$C" convert -q "$out" "$tmp/sharded-flaky.tsv"
same "$tmp/sharded-flaky.tsv" "$tmp/single-ratio.tsv" "slurm: a failed shard resubmitted alone, output equals the single run"

# Snakemake: scatter over the shards, gather by merge, on the same matrix
if command -v snakemake >/dev/null; then
  start=$(date +%s%N)
  snakemake -q --cores 2 -s workflows/snakemake/Snakefile -d "$tmp/smk" \
    --config colnorm="$C" input="$tmp/counts.parquet" method=tmm shards=3 out="$tmp/smk/out" >"$tmp/smk.log" 2>&1 \
    || { tail -n 30 "$tmp/smk.log" >&2; echo "FAIL: snakemake" >&2; exit 1; }
  echo "snakemake tmm over 3 shards: $(( ($(date +%s%N) - start) / 1000000 )) ms"
  "$C" convert -q "$tmp/smk/out" "$tmp/smk-tmm.tsv"
  same "$tmp/smk-tmm.tsv" "$tmp/single-tmm.tsv" "snakemake tmm: normalized matrix equals the single run"
  same "$tmp/smk/out/size_factors.tsv" "$tmp/single-sf-tmm.tsv" "snakemake tmm: size_factors.tsv equals the single run"
else
  echo "snakemake not installed: its workflow was not run" >&2
fi
echo "workflows: all checks passed"
