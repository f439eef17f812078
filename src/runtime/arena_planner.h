// Offsets of buffers in one arena, planned once (greedy by size, best fit), as TFLite's
// ArenaPlanner + SimpleMemoryArena do: the largest buffers are placed first, each at the
// smallest gap between buffers whose lifetimes overlap it, else after the highest one.
// Buffers whose lifetimes do not overlap may share memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace qdet::rt {

inline constexpr size_t kArenaAlignment = 64;

// A buffer alive from step `first` to step `last`, both inclusive (op indices).
struct BufferRequest {
  size_t bytes = 0;
  int32_t first = 0;
  int32_t last = 0;
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per request, multiples of `alignment`
  size_t total_bytes = 0;       // arena size needed (a multiple of `alignment`)
};

// Buffers of 0 bytes get offset 0 and take no space.
ArenaPlan plan_arena(std::span<const BufferRequest> requests, size_t alignment = kArenaAlignment);

}  // namespace qdet::rt
