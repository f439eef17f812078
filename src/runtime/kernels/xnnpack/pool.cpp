// MAX_POOL_2D and AVERAGE_POOL_2D as XNNPACK NHWC pooling operators. Padding is TFLite's
// (computed here, passed explicitly); XNNPACK's average pooling divides by the number of
// valid (non-padding) pixels in each window, as TFLite does.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

using SetupFn = xnn_status (*)(xnn_operator_t, size_t, size_t, size_t, const float*, float*,
                               pthreadpool_t);

// The input dims every pooling eval passes to its xnn_setup_* call.
struct PoolDims {
  size_t batch = 0, height = 0, width = 0;
};

struct PoolData : XnnOpData, PoolDims {
  SetupFn setup = nullptr;
  const char* setup_name = "";
};

// MAX_POOL_2D on int8 / uint8: a maximum needs no requantization, so input and output must
// share scale and zero point (TFLite requires it too); the fused activation is the clamp.
struct QuantizedPoolData : XnnOpData, PoolDims {
  bool is_signed = true;
};

// The window as XNNPACK's create calls take it: padding top, right, bottom, left; filter and
// stride height, width.
struct PoolWindow {
  uint32_t top, right, bottom, left, filter_h, filter_w, stride_h, stride_w;
};

struct PoolGeometry {
  int32_t batch, in_h, in_w, channels;
  Padding1d pad_h, pad_w;
  PoolWindow window;
  OutputRange range;
};

// Dtype-agnostic geometry; `range` is the float clamp (callers of quantized pools ignore it).
Result<PoolGeometry> pool_geometry(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_arity(ctx, 1));
  QDET_TRY(require_nonempty(ctx, ctx.inputs, "input"));
  const Shape& in = ctx.inputs[0]->shape;
  if (in.size() != 4)
    return unsupported("{}: input {} must be 4-D", op_label(ctx), shape_to_string(in));
  const graph::OpAttrs& a = ctx.op.attrs;
  if (a.stride_h < 1 || a.stride_w < 1 || a.filter_h < 1 || a.filter_w < 1)
    return unsupported("{}: filter {}x{} stride {}x{} must be >= 1", op_label(ctx), a.filter_h,
                       a.filter_w, a.stride_h, a.stride_w);
  PoolGeometry g;
  g.batch = in[0];
  g.in_h = in[1];
  g.in_w = in[2];
  g.channels = in[3];
  auto pad_h = tflite_padding(a.padding, g.in_h, a.filter_h, a.stride_h, 1);
  auto pad_w = tflite_padding(a.padding, g.in_w, a.filter_w, a.stride_w, 1);
  if (!pad_h.ok()) return Status(StatusCode::kUnsupported, pad_h.status().message());
  if (!pad_w.ok()) return Status(StatusCode::kUnsupported, pad_w.status().message());
  g.pad_h = *pad_h;
  g.pad_w = *pad_w;
  const auto u = [](int32_t v) { return static_cast<uint32_t>(v); };
  g.window = {u(g.pad_h.before), u(g.pad_w.after), u(g.pad_h.after), u(g.pad_w.before),
              u(a.filter_h),     u(a.filter_w),    u(a.stride_h),   u(a.stride_w)};
  return g;
}

Result<PoolGeometry> check_pool(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(ctx));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  QDET_ASSIGN_OR_RETURN(g.range, activation_range(ctx, ctx.op.attrs.activation));
  return g;
}

// The end of every pooling prepare: the create call's status checked, the input dims kept for
// eval and the output shape set.
template <typename Data>
Status finish_pool(PrepareContext& ctx, const PoolGeometry& g, std::unique_ptr<Data> data,
                   xnn_status created, const char* create_call) {
  data->batch = static_cast<size_t>(g.batch);
  data->height = static_cast<size_t>(g.in_h);
  data->width = static_cast<size_t>(g.in_w);
  return finish_prepare(ctx, std::move(data), {g.batch, g.pad_h.out, g.pad_w.out, g.channels}, created,
                        create_call);
}

// The float pools differ only in their operator: `create(window, channels, range, &op)`.
template <typename Create>
Status float_pool_prepare(PrepareContext& ctx, Create create, const char* create_name, SetupFn setup,
                          const char* setup_name) {
  QDET_ASSIGN_OR_RETURN(PoolGeometry g, check_pool(ctx));
  auto data = std::make_unique<PoolData>();
  const xnn_status status = create(g.window, static_cast<size_t>(g.channels), g.range, &data->op);
  data->setup = setup;
  data->setup_name = setup_name;
  return finish_pool(ctx, g, std::move(data), status, create_name);
}

Status max_pool_prepare(PrepareContext& ctx) {
  auto create = [](const PoolWindow& w, size_t c, const OutputRange& r, xnn_operator_t* op) {
    return xnn_create_max_pooling2d_nhwc_f32(w.top, w.right, w.bottom, w.left, w.filter_h, w.filter_w, w.stride_h,
                                             w.stride_w, /*dilation_height=*/1, /*dilation_width=*/1, c, c, c, r.min,
                                             r.max, /*flags=*/0, op);
  };
  return float_pool_prepare(ctx, create, "xnn_create_max_pooling2d_nhwc_f32", xnn_setup_max_pooling2d_nhwc_f32,
                            "xnn_setup_max_pooling2d_nhwc_f32");
}

Status average_pool_prepare(PrepareContext& ctx) {
  auto create = [](const PoolWindow& w, size_t c, const OutputRange& r, xnn_operator_t* op) {
    return xnn_create_average_pooling2d_nhwc_f32(w.top, w.right, w.bottom, w.left, w.filter_h, w.filter_w,
                                                 w.stride_h, w.stride_w, c, c, c, r.min, r.max, /*flags=*/0, op);
  };
  return float_pool_prepare(ctx, create, "xnn_create_average_pooling2d_nhwc_f32",
                            xnn_setup_average_pooling2d_nhwc_f32, "xnn_setup_average_pooling2d_nhwc_f32");
}

Status max_pool_quantized_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(ctx));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  QDET_TRY(require_8bit_per_tensor(ctx, in, out));
  if (in.scale() != out.scale() || in.zero_point() != out.zero_point())
    return unsupported("{}: input and output quantization differ", op_label(ctx));
  QDET_ASSIGN_OR_RETURN(QuantizedRange range,
                        quantized_activation_range(ctx, ctx.op.attrs.activation, out));
  const PoolWindow& w = g.window;
  auto data = std::make_unique<QuantizedPoolData>();
  data->is_signed = in.dtype == DType::kInt8;
  const size_t c = static_cast<size_t>(g.channels);
  const xnn_status status =
      data->is_signed
          ? xnn_create_max_pooling2d_nhwc_s8(w.top, w.right, w.bottom, w.left, w.filter_h,
                                             w.filter_w, w.stride_h, w.stride_w, 1, 1, c, c, c,
                                             static_cast<int8_t>(range.min),
                                             static_cast<int8_t>(range.max), /*flags=*/0, &data->op)
          : xnn_create_max_pooling2d_nhwc_u8(w.top, w.right, w.bottom, w.left, w.filter_h,
                                             w.filter_w, w.stride_h, w.stride_w, 1, 1, c, c, c,
                                             static_cast<uint8_t>(range.min),
                                             static_cast<uint8_t>(range.max), /*flags=*/0, &data->op);
  return finish_pool(ctx, g, std::move(data), status, "xnn_create_max_pooling2d_nhwc_{s,u}8");
}

Status max_pool_quantized_eval(EvalContext& ctx) {
  auto* d = op_data_as<QuantizedPoolData>(ctx);
  return run_8bit(ctx, d->op, d->is_signed, xnn_setup_max_pooling2d_nhwc_s8, xnn_setup_max_pooling2d_nhwc_u8,
                  "xnn_setup_max_pooling2d_nhwc_{s,u}8", d->batch, d->height, d->width);
}

Status pool_eval(EvalContext& ctx) {
  auto* data = op_data_as<PoolData>(ctx);
  xnn_status status = data->setup(data->op, data->batch, data->height, data->width,
                                  ctx.inputs[0]->as<const float>(),
                                  ctx.outputs[0]->as<float>(), ctx.threadpool);
  return run_after_setup(ctx, data->op, status, data->setup_name);
}

}  // namespace

const Kernel kMaxPool2d = {"xnnpack", max_pool_prepare, pool_eval};
const Kernel kAveragePool2d = {"xnnpack", average_pool_prepare, pool_eval};
const Kernel kMaxPool2dQuantized = {"xnnpack", max_pool_quantized_prepare,
                                    max_pool_quantized_eval};

}  // namespace qdet::rt::xnn
