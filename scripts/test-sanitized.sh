#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc, -O1 -g): a separate
# build folder (build-asan), UB is fatal (-fno-sanitize-recover=undefined), the C++ library's own
# bounds checks are on (_GLIBCXX_ASSERTIONS). .ci/run runs it after the Release suite.
#   scripts/test-sanitized.sh [ctest arguments]   e.g. -R 'OnnxBadInput'
# Assumes scripts/setup.sh has run (scripts/test.sh does) and the peers are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DQDET_SANITIZE=ON -DQDET_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
# Leaks are not checked: Debian's protobuf, fontconfig and node-facing code keep process-lifetime
# allocations that LeakSanitizer reports as leaks.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" ${QDET_SANITIZED_TESTS:+-R "$QDET_SANITIZED_TESTS"} "$@"
