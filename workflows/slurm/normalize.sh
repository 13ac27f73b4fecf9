#!/usr/bin/env bash
# Normalize a count matrix on a Slurm cluster, split into N shards of samples.
#
#   workflows/slurm/normalize.sh --method M --shards N [options] IN OUT_DIR
#
# Submits, chained with --dependency=afterok: for each statistics pass of the
# method a job array over the shards (the shard index is SLURM_ARRAY_TASK_ID)
# and a merge job; then a job array writing each shard's part of the output;
# then a job writing size_factors.tsv; and waits for that last job. OUT_DIR
# ends up with the normalized matrix as a folder of Parquet files
# (part-00001-of-0000N.parquet ..., which colnorm, DuckDB and Polars read as
# one matrix) and size_factors.tsv. States, models and job logs are kept in
# OUT_DIR/_colnorm/.
#
# Running the same command again resubmits only what is missing: a shard
# whose job failed is rerun alone, and the chain continues from there.
#
# Options:
#   --method M        ratio (default), poscounts, tmm, tmmwsp, rle, upperquartile, cpm
#   --shards N        number of shards (a contiguous range of IN's samples each;
#                     for a folder of Parquet files, N must be its number of files)
#   --log             write log values (see colnorm normalize --log)
#   --threads T       threads per shard job (--cpus-per-task; default 1)
#   --mem MEM         memory per job (default 1G)
#   --no-wait         submit and return without waiting
# Environment: COLNORM (the colnorm binary; default: colnorm on PATH); any
# SBATCH_* variable (SBATCH_PARTITION, SBATCH_TIMELIMIT, SBATCH_ACCOUNT, ...)
# is read by sbatch itself.
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

method=ratio shards="" log="" threads=1 mem=1G wait=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --method) method=${2:?}; shift 2 ;;
    --shards) shards=${2:?}; shift 2 ;;
    --log) log=--log; shift ;;
    --threads) threads=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --no-wait) wait=""; shift ;;
    -h|--help) usage ;;
    -*) echo "normalize.sh: unknown option $1" >&2; usage ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] && [ -n "$shards" ] || usage
case "$shards" in ''|*[!0-9]*|0) echo "normalize.sh: --shards must be a positive number" >&2; exit 2 ;; esac

# The statistics passes of each method (colnorm's shard package lists them).
case "$method" in
  tmm) passes=3 ;;
  cpm) passes=1 ;;
  ratio|poscounts|tmmwsp|rle|upperquartile) passes=2 ;;
  *) echo "normalize.sh: method $method does not shard" >&2; exit 2 ;;
esac

colnorm=${COLNORM:-$(command -v colnorm || true)}
[ -n "$colnorm" ] && [ -x "$colnorm" ] || { echo "normalize.sh: no colnorm binary (set COLNORM or put colnorm on PATH)" >&2; exit 2; }
colnorm=$(cd "$(dirname "$colnorm")" && pwd)/$(basename "$colnorm")
in=$(cd "$(dirname "${args[0]}")" && pwd)/$(basename "${args[0]}")
[ -e "$in" ] || { echo "normalize.sh: $in does not exist" >&2; exit 2; }
mkdir -p "${args[1]}"
out=$(cd "${args[1]}" && pwd)
work=$out/_colnorm
mkdir -p "$work/logs"

q() { printf '%q' "$1"; }
C=$(q "$colnorm") IN=$(q "$in") W=$(q "$work") O=$(q "$out")
common=(--parsable --mem="$mem" --kill-on-invalid-dep=yes)
part() { printf '%s/part-%05d-of-%05d.parquet' "$out" "$1" "$shards"; }

# missing PATTERN: the shards (1..N, comma-separated) whose file PATTERN (printf, of the shard) is absent
missing() {
  local i list=""
  for i in $(seq 1 "$shards"); do
    # shellcheck disable=SC2059
    [ -e "$(printf "$1" "$i")" ] || list="$list,$i"
  done
  echo "${list#,}"
}

dep="" model=""
for k in $(seq 1 "$passes"); do
  if [ -e "$work/model$k.json" ]; then # merged already
    model="--model $W/model$k.json" dep=""
    continue
  fi
  todo=$(missing "$work/pass$k-%d.state")
  arr=""
  if [ -n "$todo" ]; then
    arr=$(sbatch "${common[@]}" ${dep:+--dependency=afterok:$dep} --array="$todo" --cpus-per-task="$threads" \
      --job-name="colnorm-pass$k" -o "$work/logs/pass$k-%a.out" \
      --wrap "$C normalize --method $method $model --threads $threads -q --shard \${SLURM_ARRAY_TASK_ID}/$shards --state-out $W/pass$k-\${SLURM_ARRAY_TASK_ID}.state $IN")
  fi
  after=${arr:-$dep} # the array, or (all states there already) the previous merge
  dep=$(sbatch "${common[@]}" ${after:+--dependency=afterok:$after} \
    --job-name="colnorm-merge$k" -o "$work/logs/merge$k.out" \
    --wrap "$C merge -q $model -o $W/model$k.json $W/pass$k-*.state")
  model="--model $W/model$k.json"
done

todo=$(missing "$out/part-%05d-of-$(printf '%05d' "$shards").parquet")
arr=""
if [ -n "$todo" ]; then
  arr=$(sbatch "${common[@]}" ${dep:+--dependency=afterok:$dep} --array="$todo" --cpus-per-task="$threads" \
    --job-name=colnorm-write -o "$work/logs/write-%a.out" \
    --wrap "$C normalize $model $log --threads $threads -q --shard \${SLURM_ARRAY_TASK_ID}/$shards $IN -o $O")
  dep=$arr
fi
last=$(sbatch "${common[@]}" ${dep:+--dependency=afterok:$dep} --job-name=colnorm-factors -o "$work/logs/factors.out" \
  --wrap "$C size-factors $model -o $O/size_factors.tsv")
echo "normalize.sh: submitted; the last job is $last (logs in $work/logs)" >&2
[ -n "$wait" ] || exit 0

# wait for the last job: it ends, or is cancelled when a job it depends on fails
while squeue -h -j "$last" 2>/dev/null | grep -q .; do sleep 1; done
if [ -e "$out/size_factors.tsv" ] && [ -z "$(missing "$out/part-%05d-of-$(printf '%05d' "$shards").parquet")" ]; then
  echo "normalize.sh: done: $out ($shards parts) and $out/size_factors.tsv" >&2
  exit 0
fi
echo "normalize.sh: a job failed; see $work/logs (grep -l colnorm: $work/logs/*.out)." >&2
echo "normalize.sh: run the same command again to resubmit only the failed shards and what follows them." >&2
grep -h "colnorm:" "$work"/logs/*.out 2>/dev/null | sort -u | head -5 >&2 || true
exit 1
