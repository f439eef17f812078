#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each for SECONDS
# (default 60), one after another on one core, starting from a corpus of small seeds (made by
# qdet_fuzz_replay_tests) and small files from ../shared and Debian's darknet cfgs.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 onnx image
# Corpora grow in build-fuzz/corpus/<target>/; crashes land in build-fuzz/crashes/<target>/.
# A crash, once fixed, goes into tests/fuzz/regressions/<target>/ (replayed by ctest).
# Prints one line per target: execs, execs/s, corpus size, crashes. Needs clang (apt: clang).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(tflite onnx darknet coco_instances coco_results image sidecar calib_table)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
shared="${QDET_SHARED:-../shared}"
out=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DQDET_FUZZ=ON -DQDET_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j"${QDET_FUZZ_JOBS:-2}" --target $(printf '%s_fuzz ' "${targets[@]}")

# Seeds: generated ones (by the Release build's replay program when there is one, which saves
# building every module in build-fuzz), then small real files.
seeds="$out/seeds"
rm -rf "$seeds"
replay=build/tests/qdet_fuzz_replay_tests
if [ ! -x "$replay" ]; then
  cmake --build "$out" -j"${QDET_FUZZ_JOBS:-2}" --target qdet_fuzz_replay_tests
  replay="$out/tests/qdet_fuzz_replay_tests"
fi
QDET_FUZZ_SEEDS_DIR="$PWD/$seeds" "$replay" --gtest_filter='Targets/*' >/dev/null
add() { # target, files...
  local t="$1"; shift
  mkdir -p "$seeds/$t"
  for f in "$@"; do [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 262144 ] && cp "$f" "$seeds/$t/" || true; done
}
add coco_instances "$shared"/fixtures/cocoeval/*/gt*.json "$shared"/fixtures/cocoeval/*/*gts*.json
add coco_results "$shared"/fixtures/cocoeval/*/dt.json "$shared"/fixtures/cocoeval/*/*results*.json
add image "$shared"/data/coco/val2017-139/images/*.jpg
add sidecar "$shared"/data/models/*.qdet.json
for cfg in /usr/share/darknet/cfg/yolov3-tiny.cfg /usr/share/darknet/cfg/tiny.cfg; do
  [ -f "$cfg" ] && { mkdir -p "$seeds/darknet"; cp "$cfg" "$seeds/darknet/$(basename "$cfg")"; }
done
for regressions in tests/fuzz/regressions/*/; do
  t="$(basename "$regressions")"
  mkdir -p "$seeds/$t"; cp "$regressions"* "$seeds/$t/" 2>/dev/null || true
done

status=0
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"; crashes="$out/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$out/fuzz-$t.log"
  # -rss_limit_mb/-malloc_limit_mb: a file that makes qdet ask for more than 2 GiB is a finding.
  set +e
  ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$out/tests/fuzz/${t}_fuzz" "$corpus" "$seeds/$t" -max_total_time="$seconds" -max_len=262144 \
    -rss_limit_mb=2560 -malloc_limit_mb=2048 -timeout=30 -artifact_prefix="$crashes/" -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  found=$(find "$crashes" -type f | wc -l)
  echo "fuzz: $t: ${seconds}s, ${execs:-0} execs ($(( ${execs:-0} / (seconds > 0 ? seconds : 1) )) /s), corpus $(ls "$corpus" | wc -l), crashes $found, exit $rc (log $log)"
  [ "$rc" -ne 0 ] || [ "$found" -ne 0 ] && status=1
done
exit $status
