#!/usr/bin/env bash
# Submits a whole qdet study to Slurm as four jobs chained with --dependency=afterok:
#   make (the variants) -> eval (a job array: N shards of every variant) and bench (one node,
#   --exclusive) -> assemble (the report, once the whole array and the benchmarks succeeded).
#
#   deploy/slurm/submit_study.sh -o REPORT_DIR -n SHARDS [-p PARTITION] -- MODEL --images DIR \
#       --annotations JSON [--calib DIR] [--modes ...] [any other `qdet study` option]
#
# Prints the job ids (`make=12 eval=13 bench=14 assemble=15`) on one line. Logs go to
# REPORT_DIR/logs/. $QDET names the qdet binary on the nodes (default: `qdet` on PATH);
# $QDET_SBATCH_ARGS adds sbatch options to every job (e.g. --account=..., --time=...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="" shards="" partition=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -n) shards=$2; shift 2 ;;
    -p) partition=(--partition "$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "submit_study.sh: unexpected '$1' (options, then -- and the study's arguments)" >&2; exit 64 ;;
  esac
done
[ -n "$out" ] && [ -n "$shards" ] && [ $# -gt 0 ] ||
  { echo "usage: $0 -o REPORT_DIR -n SHARDS [-p PARTITION] -- MODEL --images DIR --annotations JSON [...]" >&2; exit 64; }
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit_study.sh: -n $shards: a positive number of shards" >&2; exit 64; }
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
read -r -a extra <<< "${QDET_SBATCH_ARGS:-}"
common=("${partition[@]}" "${extra[@]}" --parsable --chdir "$out")

make=$(sbatch "${common[@]}" --job-name=qdet-make --output="$out/logs/make-%j.out" \
  "$here/study.sbatch" make "$out" "$@")
eval=$(sbatch "${common[@]}" --job-name=qdet-eval --dependency="afterok:$make" --array="0-$((shards - 1))" \
  --output="$out/logs/eval-%A_%a.out" "$here/study.sbatch" eval "$out" "$shards")
bench=$(sbatch "${common[@]}" --job-name=qdet-bench --dependency="afterok:$make" --exclusive \
  --output="$out/logs/bench-%j.out" "$here/study.sbatch" bench "$out")
assemble=$(sbatch "${common[@]}" --job-name=qdet-assemble --dependency="afterok:$eval:$bench" \
  --output="$out/logs/assemble-%j.out" "$here/study.sbatch" assemble "$out")
echo "make=${make%%;*} eval=${eval%%;*} bench=${bench%%;*} assemble=${assemble%%;*}"
