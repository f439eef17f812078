// Function multiversioning for qdet's hand-vectorised loops: GCC compiles a QDET_SIMD_CLONES
// function once per level below and picks one when the program loads, by the CPU's *features*
// (x86-64-v4: AVX-512 F/BW/CD/DQ/VL). The "arch=skylake-avx512" clone this replaces matched only
// that CPU model, so Ice Lake, Sapphire Rapids and Zen 4 ran the AVX2 clone (the fused SiLU then
// took 7.6 ns an element instead of 0.55 on this project's Xeon).
#pragma once

// clang (the fuzzing and sanitizer builds) gets one version: clang 14 takes neither templates
// nor arch levels in target_clones.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QDET_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define QDET_SIMD_CLONES
#endif

// Whether this CPU has the AVX-512 subsets F, BW, DQ and VL (those of x86-64-v4), for code written
// with their intrinsics under __attribute__((target(...))) and chosen at run time.
inline bool cpu_has_avx512_v4() {
#if defined(__GNUC__) && defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return has;
#else
  return false;
#endif
}
