#include "runtime/arena_planner.h"

#include <algorithm>
#include <numeric>

namespace qdet::rt {

namespace {

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

bool overlaps(const BufferRequest& a, const BufferRequest& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

ArenaPlan plan_arena(std::span<const BufferRequest> requests, size_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  // Largest first; ties by earlier first use, then by index, so the plan is deterministic.
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });

  struct Placed {
    size_t offset, end;
  };
  std::vector<size_t> placed;  // indices of requests already placed
  std::vector<Placed> live;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    if (r.bytes == 0) continue;
    const size_t size = round_up(r.bytes, alignment);
    live.clear();
    for (size_t p : placed)
      if (overlaps(requests[p], r))
        live.push_back({plan.offsets[p], plan.offsets[p] + round_up(requests[p].bytes, alignment)});
    std::sort(live.begin(), live.end(),
              [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    // Best fit: the smallest gap between live buffers that holds `size`.
    size_t best_offset = 0, best_gap = SIZE_MAX;
    bool found = false;
    size_t cursor = 0;
    for (const Placed& p : live) {
      if (p.offset > cursor) {
        const size_t gap = p.offset - cursor;
        if (gap >= size && gap < best_gap) {
          best_gap = gap;
          best_offset = cursor;
          found = true;
        }
      }
      cursor = std::max(cursor, p.end);
    }
    plan.offsets[idx] = found ? best_offset : cursor;
    plan.total_bytes = std::max(plan.total_bytes, plan.offsets[idx] + size);
    placed.push_back(idx);
  }
  return plan;
}

}  // namespace qdet::rt
