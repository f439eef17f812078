// CAST between float32, int32, int64, int16, int8, uint8 and bool (TFLite cast.cc): each value
// converted with static_cast, as TFLite does (quantization parameters are ignored: raw values);
// to bool, v != 0. A float outside the target's range saturates here (undefined behaviour in
// C++ and in TFLite; NaN gives 0).
#include <cmath>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

bool castable(DType t) {
  switch (t) {
    case DType::kFloat32: case DType::kInt32: case DType::kInt64: case DType::kInt16:
    case DType::kInt8: case DType::kUInt8: case DType::kBool: return true;
    default: return false;
  }
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  if (!castable(in.dtype)) return no_kernel_for_dtype(in.dtype);
  if (!castable(out.dtype))
    return unsupported("no kernel for a {} output", dtype_name(out.dtype));
  out.shape = in.shape;
  return ok_status();
}

template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{};
  } else if constexpr (std::is_floating_point_v<From> && !std::is_floating_point_v<To>) {
    if (std::isnan(v)) return To{};
    const double d = std::clamp(static_cast<double>(v), static_cast<double>(std::numeric_limits<To>::lowest()),
                                static_cast<double>(std::numeric_limits<To>::max()));
    return static_cast<To>(d);
  } else {
    return static_cast<To>(v);
  }
}

template <typename From>
void cast_from(const From* in, const TensorRef& out, int64_t n) {
  auto run = [&](auto* o) {
    using To = std::remove_pointer_t<decltype(o)>;
    for (int64_t i = 0; i < n; ++i) o[i] = convert<To>(in[i]);
  };
  switch (out.dtype) {
    case DType::kFloat32: run(out.as<float>()); break;
    case DType::kInt32: run(out.as<int32_t>()); break;
    case DType::kInt64: run(out.as<int64_t>()); break;
    case DType::kInt16: run(out.as<int16_t>()); break;
    case DType::kInt8: run(out.as<int8_t>()); break;
    case DType::kUInt8: run(out.as<uint8_t>()); break;
    case DType::kBool: run(out.as<bool>()); break;
    default: break;
  }
}

Status eval(EvalContext& ctx) {
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  const int64_t n = in.num_elements();
  return with_element_type<float, int32_t, int64_t, int16_t, int8_t, uint8_t, bool>(in.dtype, "CAST", [&](auto t) {
    cast_from(in.as<const decltype(t)>(), out, n);
  });
}

}  // namespace

const Kernel kCast = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
