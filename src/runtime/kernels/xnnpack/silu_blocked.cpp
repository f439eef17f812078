// Float SiLU, MUL(x, LOGISTIC(x)), run as XNNPACK's own sigmoid and multiply operators one
// block at a time: a block's sigmoid goes to a small buffer that stays in cache, and the
// multiply reads it from there. The unfused pair writes a tensor-sized temporary and reads it
// back; here x is read from memory once and the output written once. Each element still gets
// exactly the operators' arithmetic (element-wise: blocking changes no value), so the output is
// the unfused pair's bytes on any CPU. Plans that must keep XNNPACK's float bytes (exact_float:
// the float regions of int8 models, the quantizer's calibration) use it where the faster
// one-pass SiLU (silu_float.cpp) would move an ulp.
#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

constexpr size_t kBlock = 8 * 1024;  // floats: x, the sigmoid and the output block fit in L2

// One lane a thread: its own operators (setup rewrites an operator's state) and buffer.
struct Lane {
  xnn_operator_t sigmoid = nullptr;
  xnn_operator_t multiply = nullptr;
  std::vector<float> buffer;  // kBlock floats and XNNPACK's read tail
  Lane() = default;
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  ~Lane() {
    if (sigmoid) xnn_delete_operator(sigmoid);
    if (multiply) xnn_delete_operator(multiply);
  }
};

struct SiluBlockedData : OpData {
  std::vector<std::unique_ptr<Lane>> lanes;
};

const char* run_block(Lane& lane, const float* x, float* out, size_t n) {
  if (xnn_setup_sigmoid_nc_f32(lane.sigmoid, n, x, lane.buffer.data(), nullptr) != xnn_status_success)
    return "xnn_setup_sigmoid_nc_f32";
  if (xnn_run_operator(lane.sigmoid, nullptr) != xnn_status_success) return "xnn_run_operator (sigmoid)";
  const size_t shape[1] = {n};
  if (xnn_setup_multiply_nd_f32(lane.multiply, 1, shape, 1, shape, x, lane.buffer.data(), out, nullptr) !=
      xnn_status_success)
    return "xnn_setup_multiply_nd_f32";
  if (xnn_run_operator(lane.multiply, nullptr) != xnn_status_success) return "xnn_run_operator (multiply)";
  return nullptr;
}

Status silu_prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0]) return invalid_argument("silu: no input");
  ctx.outputs[0]->shape = ctx.inputs[0]->shape;
  return ok_status();
}

Status silu_eval(EvalContext& ctx) {
  auto* d = op_data_as<SiluBlockedData>(ctx);
  const size_t n = static_cast<size_t>(ctx.inputs[0]->num_elements());
  const float* x = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  // Whole blocks split evenly over the lanes, each lane walking its share block by block.
  const size_t blocks = (n + kBlock - 1) / kBlock;
  const size_t lanes = std::min(d->lanes.size(), blocks);
  std::vector<const char*> failed(lanes, nullptr);
  ref::parallel_for(lanes > 1 ? ctx.threadpool : nullptr, lanes, [&](size_t k) {
    for (size_t b = blocks * k / lanes; b < blocks * (k + 1) / lanes && !failed[k]; ++b) {
      const size_t begin = b * kBlock;
      failed[k] = run_block(*d->lanes[k], x + begin, out + begin, std::min(kBlock, n - begin));
    }
  });
  for (const char* call : failed)
    if (call) return internal_error("{} (silu): {} failed", ctx.op.name(), call);
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<OpData>> silu_blocked_data(int num_threads) {
  QDET_TRY(ensure_initialized());
  auto d = std::make_unique<SiluBlockedData>();
  const float inf = std::numeric_limits<float>::infinity();
  for (int t = 0; t < std::max(1, num_threads); ++t) {
    auto lane = std::make_unique<Lane>();
    lane->buffer.resize(kBlock + XNN_EXTRA_BYTES / sizeof(float));
    if (xnn_create_sigmoid_nc_f32(1, 1, 1, /*flags=*/0, &lane->sigmoid) != xnn_status_success ||
        xnn_create_multiply_nd_f32(-inf, inf, /*flags=*/0, &lane->multiply) != xnn_status_success)
      return unsupported("silu: XNNPACK refused its sigmoid or multiply operator");
    d->lanes.push_back(std::move(lane));
  }
  return std::unique_ptr<OpData>(std::move(d));
}

bool silu_matches(void (*silu)(const float* x, float* y, size_t n)) {
  // Every 4093rd bit pattern from 0 up: all exponents, subnormals, infinities and NaNs, both
  // signs (about a million values, a few ms), run as XNNPACK's pair a block at a time and by `silu`.
  auto data = silu_blocked_data(1);
  bool same = data.ok();
  std::vector<float> x(kBlock), expected(kBlock + XNN_EXTRA_BYTES / sizeof(float)), got(kBlock);
  uint64_t bits = 0;
  constexpr uint64_t kStep = 4093, kEnd = uint64_t{1} << 32;
  auto& lane = *static_cast<SiluBlockedData&>(**data).lanes[0];
  while (same && bits < kEnd) {
    size_t n = 0;
    for (; n < kBlock && bits < kEnd; ++n, bits += kStep) {
      const uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&x[n], &b, sizeof b);
    }
    same = run_block(lane, x.data(), expected.data(), n) == nullptr;
    silu(x.data(), got.data(), n);
    same = same && std::memcmp(expected.data(), got.data(), n * sizeof(float)) == 0;
  }
  return same;
}

const Kernel kSiluBlocked = {"xnnpack-silu", silu_prepare, silu_eval};

}  // namespace qdet::rt::xnn
