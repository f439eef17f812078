#include "runtime/interpreter.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>

#include "base/memory.h"
#include "base/timer.h"
#include "graph/op_traits.h"
#include "runtime/arena_planner.h"
#include "runtime/concat_silu.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/lut_fusion.h"
#include "runtime/op_cases.h"
#include "runtime/scatter_update.h"
#include "runtime/slice_concat.h"
#include "runtime/transpose_concat.h"

namespace qdet::rt {

namespace {

struct ArenaDeleter {
  void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(kArenaAlignment)); }
};

struct PoolDeleter {
  void operator()(pthreadpool_t p) const {
    if (p) pthreadpool_destroy(p);
  }
};

// Zero-sized tensors still get a valid, aligned address.
alignas(kArenaAlignment) uint8_t g_empty_tensor[kArenaAlignment];

// Stands in for the kernel of an op folded at plan time (its outputs became constants).
Status folded_prepare(PrepareContext&) { return ok_status(); }
Status folded_eval(EvalContext&) { return ok_status(); }
const Kernel kFoldedKernel = {"folded", folded_prepare, folded_eval};
// Stands in for an op whose work another op's fused kernel does (lut_fusion.h).
const Kernel kFusedKernel = {"fused", folded_prepare, folded_eval};
// RESHAPE, SQUEEZE, EXPAND_DIMS whose output is a view of its input's bytes (alias_reshapes).
const Kernel kAliasKernel = {"alias", folded_prepare, folded_eval};

struct OpPlan {
  const Kernel* kernel = nullptr;
  bool folded = false;  // computed once at plan time or fused into another op; invoke() skips it
  std::vector<TensorRef*> inputs, outputs;
  std::unique_ptr<OpData> data;
  size_t scratch_bytes = 0;
  size_t scratch_offset = 0;
  uint8_t* scratch = nullptr;
};

// Op `plan`'s work is done by another op's fused kernel: it is skipped from now on.
void mark_fused(OpPlan& plan) {
  plan.kernel = &kFusedKernel;
  plan.folded = true;
  plan.data.reset();
  plan.scratch_bytes = 0;
}

// One line: the op, its index and input dtypes, and the dtypes qdet runs it in (op_cases.h).
// Where qdet does run the op in these dtypes, the last kernel's reason (the reference kernel's)
// says what else it needs, without repeating the op's name.
Status no_kernel_error(size_t index, const graph::Op& op, const std::vector<TensorRef*>& inputs,
                       const std::vector<std::string>& reasons) {
  std::string dtypes;
  for (const TensorRef* t : inputs)
    if (t != nullptr && !t->is_constant) {
      dtypes = dtype_name(t->dtype);
      break;
    }
  if (dtypes.empty() && !inputs.empty() && inputs[0] != nullptr) dtypes = dtype_name(inputs[0]->dtype);
  const std::vector<DType> supported = supported_input_dtypes(op.kind);
  std::string list;
  for (DType d : supported) list += std::string(list.empty() ? "" : ", ") + dtype_name(d);
  const bool dtype_supported =
      std::any_of(supported.begin(), supported.end(),
                  [&](DType d) { return dtypes == dtype_name(d); });
  if (dtype_supported && !reasons.empty()) {
    std::string reason = reasons.back();
    for (const std::string& prefix : {fmt::format("{} (op {}): ", op.name(), index),
                                     fmt::format("{}: ", op.name())})
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    return Status(StatusCode::kUnsupported,
                  fmt::format("op {} ({}): {} input: {}", index, op.name(), dtypes, reason));
  }
  return Status(StatusCode::kUnsupported,
                fmt::format("op {} ({}): no kernel for {} input; qdet runs it in {}", index,
                            op.name(), dtypes.empty() ? "this" : dtypes,
                            list.empty() ? "no dtype (not supported)" : list));
}

}  // namespace

struct Interpreter::Impl {
  std::shared_ptr<const graph::Graph> graph;
  InterpreterOptions options;
  std::vector<TensorRef> tensors;
  std::vector<OpPlan> ops;
  // Per tensor: the tensor whose memory it shares (itself for most; a reshaped view's source).
  std::vector<int32_t> memory_of;
  std::unique_ptr<uint8_t[], ArenaDeleter> arena;
  size_t arena_bytes = 0;
  std::unique_ptr<pthreadpool, PoolDeleter> pool;
  // Outputs of folded ops (constant data computed at plan time), with kKernelReadTailBytes.
  std::vector<std::unique_ptr<uint8_t[], ArenaDeleter>> folded_buffers;
  size_t folded_bytes = 0;  // their sum: bounded, as they live outside the arena's budget
  // Shapes of the graph inputs: asked for by resize_input(), and those of the current plan.
  std::vector<Shape> input_shapes, planned_shapes;
  bool needs_plan = false;  // an input was resized after the last plan
  bool resized = false;     // the current plan's inputs differ from the file's shapes
  // Float kernels must give XNNPACK's bytes: options.exact_float, or the model quantizes float
  // values (QUANTIZE ops).
  bool exact_float = false;

  Status build();
  Status plan();
  std::string describe_resized_inputs() const;
  Status run_op(size_t index);
  Status prepare_op(size_t index);
  bool can_fold(size_t index) const;
  Status fold_op(size_t index);
  void fuse_silu();
  void fuse_slice_concats();
  void fuse_scatter_updates();
  void fuse_transpose_concats();
  void fuse_concat_silus();
  void fold_pads();
  bool fold_pad_through_dequantize(int32_t unpadded, int32_t dequantize_op, const SpatialPad& pad,
                                   const std::vector<std::vector<int32_t>>& consumers);
  void tabulate_activations();
  void fuse_output_tables();
  void fuse_conv_silus();
  OpPlan* sole_reader_producer(size_t reader, const TensorRef& x, const std::vector<int32_t>& producers,
                               const std::vector<std::vector<int32_t>>& consumers);
  void alias_reshapes();
  void run_scatter_updates_in_place();
  Status plan_memory();
  uint64_t budget() const;
  std::string describe_tensor(int32_t id, uint64_t bytes) const;
  Status check_op_memory() const;
};

Status Interpreter::Impl::run_op(size_t index) {
  OpPlan& plan = ops[index];
  if (plan.folded) return ok_status();
  EvalContext ctx{.op = graph->ops[index],
                  .inputs = plan.inputs,
                  .outputs = plan.outputs,
                  .op_data = plan.data.get(),
                  .scratch = plan.scratch,
                  .threadpool = pool.get()};
  Status s = plan.kernel->eval(ctx);
  if (!s.ok()) return s.with_context(fmt::format("op {} ({})", index, graph->ops[index].name()));
  return ok_status();
}

Status Interpreter::Impl::prepare_op(size_t index) {
  const graph::Op& op = graph->ops[index];
  OpPlan& plan = ops[index];
  for (int32_t id : op.inputs) plan.inputs.push_back(id < 0 ? nullptr : &tensors[id]);
  for (int32_t id : op.outputs) plan.outputs.push_back(&tensors[id]);

  const auto candidates =
      default_kernel_registry().candidates(op.kind, options.use_fast_kernels);
  if (candidates.empty())
    return unsupported("op {} ({}): qdet has no kernel for this op", index, op.name());
  std::vector<std::string> reasons;
  for (const Kernel* kernel : candidates) {
    // A sentinel shape: a kernel that forgets to set an output's shape is caught below.
    for (TensorRef* out : plan.outputs) out->shape = {-1};
    PrepareContext ctx{.op = op,
                       .op_index = static_cast<int32_t>(index),
                       .inputs = plan.inputs,
                       .outputs = plan.outputs,
                       .num_threads = options.num_threads,
                       .threadpool = pool.get(),
                       .exact_float = exact_float};
    Status s = kernel->prepare(ctx);
    if (s.code() == StatusCode::kUnsupported) {
      reasons.push_back(s.message());
      continue;
    }
    if (!s.ok()) return s.with_context(fmt::format("op {} ({})", index, op.name()));
    plan.kernel = kernel;
    plan.data = std::move(ctx.op_data);
    plan.scratch_bytes = ctx.scratch_bytes;
    break;
  }
  if (!plan.kernel) return no_kernel_error(index, op, plan.inputs, reasons);
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    TensorRef* out = plan.outputs[i];
    const graph::Tensor& declared = graph->tensors[out->id];
    // An empty declared shape is how TFLite files leave outputs whose shape the op decides
    // (the SSD's TFLite_Detection_PostProcess outputs): the computed shape wins there. With
    // resized inputs the file's shapes are stale, and the computed ones win everywhere.
    if (!resized && out->shape != declared.shape && !declared.shape.empty())
      return invalid_argument(
          "op {} ({}): output {} (tensor {} '{}') has shape {} but the graph declares {}", index,
          op.name(), i, out->id, declared.name, shape_to_string(out->shape),
          shape_to_string(declared.shape));
  }
  return ok_status();
}

// An op whose inputs are all constant is folded: its output is computed once here, by the
// kernel prepared for it (so the same bytes as running it), and becomes a constant tensor.
// DEQUANTIZE of compressed weights (float16, int8/uint8) so that the convolutions reading them
// see constant weights and fast kernels can pack them; the constant chains converters leave in
// a graph (TensorFlow's tensor_scatter_nd_update lowers to BROADCAST_TO -> SCATTER_ND -> SUB
// masks of constants, computed on every run otherwise). Not folded: ops with several outputs,
// detector heads, graph inputs, outputs and variables, outputs over kMaxFoldedBytes, and any
// output once folded outputs reach kMaxFoldedTotal (the rest run from the arena as usual).
bool Interpreter::Impl::can_fold(size_t index) const {
  constexpr size_t kMaxFoldedBytes = size_t{64} << 20, kMaxFoldedTotal = size_t{256} << 20;
  const graph::Op& op = graph->ops[index];
  if (op.outputs.size() != 1 || op.inputs.empty() || graph::op_traits(op.kind).role == graph::OpRole::kHead)
    return false;
  for (int32_t id : op.inputs)
    if (id >= 0 && (!tensors[id].is_constant || tensors[id].data == nullptr)) return false;
  const int32_t out = op.outputs[0];
  if (out < 0 || graph->tensors[out].is_variable || tensors[out].byte_size() > kMaxFoldedBytes ||
      folded_bytes + tensors[out].byte_size() > kMaxFoldedTotal)
    return false;
  return std::find(graph->inputs.begin(), graph->inputs.end(), out) == graph->inputs.end() &&
         std::find(graph->outputs.begin(), graph->outputs.end(), out) == graph->outputs.end();
}

Status Interpreter::Impl::fold_op(size_t index) {
  OpPlan& plan = ops[index];
  TensorRef& out = *plan.outputs[0];
  const size_t bytes = out.byte_size();
  std::unique_ptr<uint8_t[], ArenaDeleter> buffer(
      new (std::align_val_t(kArenaAlignment)) uint8_t[bytes + kKernelReadTailBytes]);
  std::memset(buffer.get(), 0, bytes + kKernelReadTailBytes);
  std::unique_ptr<uint8_t[], ArenaDeleter> scratch;
  if (plan.scratch_bytes > 0)
    scratch.reset(new (std::align_val_t(kArenaAlignment)) uint8_t[plan.scratch_bytes]);
  out.data = buffer.get();
  EvalContext ctx{.op = graph->ops[index],
                  .inputs = plan.inputs,
                  .outputs = plan.outputs,
                  .op_data = plan.data.get(),
                  .scratch = scratch.get(),
                  .threadpool = nullptr};
  Status s = plan.kernel->eval(ctx);
  if (!s.ok())
    return s.with_context(fmt::format("op {} ({}) folded at plan time", index,
                                      graph->ops[index].name()));
  out.is_constant = true;
  folded_buffers.push_back(std::move(buffer));
  folded_bytes += bytes;
  plan.kernel = &kFoldedKernel;
  plan.folded = true;
  plan.data.reset();
  plan.scratch_bytes = 0;
  return ok_status();
}

// Whether a PAD's padding value is zero: 0.0 for float32; for int8/uint8 the zero point, with
// the same parameters in and out (the bytes are not requantized, only moved).
static bool pads_with_zero(const graph::Graph& g, const graph::Op& op, const std::vector<TensorRef>& tensors) {
  const TensorRef& in = tensors[op.inputs[0]];
  const bool quantized = in.dtype == DType::kInt8 || in.dtype == DType::kUInt8;
  if (in.dtype != DType::kFloat32 && !quantized) return false;
  int32_t zero_point = 0;
  if (quantized) {
    const auto& qi = g.tensors[op.inputs[0]].quant;
    const auto& qo = g.tensors[op.outputs[0]].quant;
    if (qi.scale.size() != 1 || qi.zero_point.size() != 1 || qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      return false;
    zero_point = static_cast<int32_t>(qi.zero_point[0]);
  }
  if (op.kind != graph::OpKind::kPadV2 || op.inputs.size() < 3 || op.inputs[2] < 0) return true;
  const TensorRef& value = tensors[op.inputs[2]];
  if (!value.is_constant || !value.data || value.dtype != in.dtype || value.num_elements() != 1) return false;
  switch (in.dtype) {
    case DType::kFloat32: return value.as<const float>()[0] == 0.0f;
    case DType::kInt8: return value.as<const int8_t>()[0] == zero_point;
    default: return value.data[0] == zero_point;
  }
}

// A PAD of zeros (float 0.0; the zero point of an int8/uint8 tensor) around H and W whose only
// reader is a convolution kernel that can take it (Kernel::fold_input_pad: oneDNN's and
// XNNPACK's float convolutions, oneDNN's int8/uint8 ones) becomes that convolution's own
// padding: no padded copy is written, and the convolution computes the same bits. So does an
// int8/uint8 one whose DEQUANTIZE feeds a float convolution (fold_pad_through_dequantize).
void Interpreter::Impl::fold_pads() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    const graph::Op& op = graph->ops[i];
    OpPlan& pad = ops[i];
    if ((op.kind != graph::OpKind::kPad && op.kind != graph::OpKind::kPadV2) || pad.folded) continue;
    if (op.inputs.size() < 2 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.inputs[1] < 0) continue;
    const TensorRef& in = tensors[op.inputs[0]];
    const TensorRef& paddings = tensors[op.inputs[1]];
    const int32_t out = op.outputs[0];
    if (in.shape.size() != 4 || !paddings.is_constant || !paddings.data || paddings.dtype != DType::kInt32 ||
        paddings.num_elements() != 8 || !pads_with_zero(*graph, op, tensors))
      continue;
    const int32_t* p = paddings.as<const int32_t>();  // [dim][before, after]
    if (p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0 || p[2] < 0 || p[3] < 0 || p[4] < 0 || p[5] < 0) continue;
    if (consumers[out].size() != 1 ||
        std::find(graph->outputs.begin(), graph->outputs.end(), out) != graph->outputs.end())
      continue;
    const SpatialPad spatial{.top = p[2], .bottom = p[3], .left = p[4], .right = p[5]};
    const int32_t reader = consumers[out][0];
    if (graph->ops[reader].kind == graph::OpKind::kDequantize) {
      if (fold_pad_through_dequantize(op.inputs[0], reader, spatial, consumers)) mark_fused(pad);
      continue;
    }
    OpPlan& conv = ops[reader];
    const graph::Op& conv_op = graph->ops[reader];
    if (conv.folded || !conv.kernel || !conv.kernel->fold_input_pad || conv_op.inputs.empty() ||
        conv_op.inputs[0] != out)
      continue;
    if (!conv.kernel->fold_input_pad(conv.data.get(), in.shape, spatial)) continue;
    conv.inputs[0] = &tensors[op.inputs[0]];
    mark_fused(pad);
  }
}

// An int8/uint8 zero-point PAD read only by a DEQUANTIZE read only by a convolution (the float
// regions of int8 models: QUANTIZE, PAD, DEQUANTIZE, float depthwise): the DEQUANTIZE reads the
// unpadded tensor, and the padding, whose zero point dequantizes to exactly +0.0, becomes the
// convolution's own padding (the same products as the padded copy's zeros). False, with nothing
// changed, when the DEQUANTIZE or the convolution cannot take it.
bool Interpreter::Impl::fold_pad_through_dequantize(int32_t unpadded, int32_t dequantize_op, const SpatialPad& pad,
                                                    const std::vector<std::vector<int32_t>>& consumers) {
  const graph::Op& dq_op = graph->ops[dequantize_op];
  OpPlan& dq = ops[dequantize_op];
  if (dq.folded || !dq.kernel || dq_op.outputs.size() != 1 || tensors[dq_op.outputs[0]].dtype != DType::kFloat32)
    return false;
  const int32_t dq_out = dq_op.outputs[0];
  if (consumers[dq_out].size() != 1 || !graph->read_only_by(dq_out, consumers[dq_out][0], consumers)) return false;
  OpPlan& conv = ops[consumers[dq_out][0]];
  const graph::Op& conv_op = graph->ops[consumers[dq_out][0]];
  if (conv.folded || !conv.kernel || !conv.kernel->fold_input_pad || conv_op.inputs.empty() || conv_op.inputs[0] != dq_out)
    return false;
  TensorRef& out = tensors[dq_out];
  const Shape padded = out.shape;
  TensorRef* const dq_inputs[1] = {&tensors[unpadded]};
  TensorRef* const dq_outputs[1] = {&out};
  PrepareContext ctx{.op = dq_op,
                     .op_index = dequantize_op,
                     .inputs = dq_inputs,
                     .outputs = dq_outputs,
                     .num_threads = options.num_threads,
                     .threadpool = pool.get(),
                     .exact_float = exact_float};
  if (!dq.kernel->prepare(ctx).ok() || !conv.kernel->fold_input_pad(conv.data.get(), out.shape, pad)) {
    out.shape = padded;
    return false;
  }
  dq.data = std::move(ctx.op_data);
  dq.scratch_bytes = ctx.scratch_bytes;
  dq.inputs = {&tensors[unpadded]};
  return true;
}

// The plan of the op that makes `x` when op `reader` is the only op left to read it (the others
// folded or fused), and `x` is neither a variable nor a graph output; else null. The fusions that
// move a reader's work into the producer's store (fuse_output_tables, fuse_conv_silus) ask it.
OpPlan* Interpreter::Impl::sole_reader_producer(size_t reader, const TensorRef& x,
                                                const std::vector<int32_t>& producers,
                                                const std::vector<std::vector<int32_t>>& consumers) {
  const int32_t id = x.id;
  if (id < 0 || producers[id] < 0 || graph->tensors[id].is_variable ||
      std::find(graph->outputs.begin(), graph->outputs.end(), id) != graph->outputs.end())
    return nullptr;
  if (!std::all_of(consumers[id].begin(), consumers[id].end(),
                   [&](int32_t c) { return c == static_cast<int32_t>(reader) || ops[c].folded; }))
    return nullptr;
  return &ops[producers[id]];
}

// A byte table (kLutKernel: a tabulated SiLU or activation) whose input no other op left reads,
// made by a kernel with the Kernel::take_output_table hook (qdet's AMX pointwise and 8-bit
// depthwise convolutions), is applied by that kernel to its output bytes while they are in cache:
// the kernel writes the table's output, whose bytes are the same, and the intermediate tensor is
// never stored.
void Interpreter::Impl::fuse_output_tables() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& lut = ops[i];
    if (lut.folded || lut.kernel != &kLutKernel || lut.inputs.empty() || !lut.inputs[0] || lut.outputs.size() != 1)
      continue;
    const ByteTable* table = lut_byte_table(lut.data.get());
    // The table's op is x's only reader left (a SiLU's LOGISTIC is fused into its table).
    OpPlan* producer = table ? sole_reader_producer(i, *lut.inputs[0], producers, consumers) : nullptr;
    if (!producer) continue;
    OpPlan& conv = *producer;
    if (conv.folded || !conv.kernel || !conv.kernel->take_output_table || conv.outputs.size() != 1 ||
        conv.outputs[0] != lut.inputs[0] || !conv.kernel->take_output_table(conv.data.get(), table->data()))
      continue;
    conv.outputs[0] = lut.outputs[0];
    mark_fused(lut);
  }
}

// An exact one-pass float SiLU (simd::kSiluExact, in plans that keep XNNPACK's float bytes) whose
// input no other op left reads, made by a kernel with the Kernel::take_output_silu hook (qdet's
// float convolution), is computed by that kernel as it stores its outputs, its division by
// RCP14 and Newton (simd::silu_exact_newton: the same bits, checked once a process against
// XNNPACK's pair like the one-pass SiLU); the convolution's own output is never stored.
void Interpreter::Impl::fuse_conv_silus() {
  if (options.keep_intermediates || !options.use_fast_kernels || !exact_float) return;
  static const bool same_bits = simd::silu_exact_available() && xnn::silu_matches(simd::silu_exact_newton);
  if (!same_bits) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& silu = ops[i];
    if (silu.folded || silu.kernel != &simd::kSiluExact || silu.inputs.size() != 1 || !silu.inputs[0] ||
        silu.outputs.size() != 1)
      continue;
    OpPlan* producer = sole_reader_producer(i, *silu.inputs[0], producers, consumers);
    if (!producer) continue;
    OpPlan& conv = *producer;
    if (conv.folded || !conv.kernel || !conv.kernel->take_output_silu || conv.outputs.size() != 1 ||
        conv.outputs[0] != silu.inputs[0] || !conv.kernel->take_output_silu(conv.data.get()))
      continue;
    conv.outputs[0] = silu.outputs[0];
    mark_fused(silu);
  }
}

// A RESHAPE, SQUEEZE or EXPAND_DIMS only renames the shape of its input's bytes: its output
// becomes a view of the input's memory (memory_of) instead of a copy, and the op is skipped.
// The input's memory then lives until the view's last reader. Not for graph outputs, variables
// or constants, nor when intermediates are kept.
void Interpreter::Impl::alias_reshapes() {
  memory_of.resize(tensors.size());
  for (size_t id = 0; id < tensors.size(); ++id) memory_of[id] = static_cast<int32_t>(id);
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  std::vector<char> is_output(tensors.size(), 0);
  for (int32_t t : graph->outputs) is_output[t] = 1;
  for (size_t i = 0; i < ops.size(); ++i) {
    const graph::Op& op = graph->ops[i];
    OpPlan& plan = ops[i];
    if (op.kind != graph::OpKind::kReshape && op.kind != graph::OpKind::kSqueeze &&
        op.kind != graph::OpKind::kExpandDims)
      continue;
    if (plan.folded || plan.inputs.empty() || !plan.inputs[0] || plan.outputs.size() != 1) continue;
    const TensorRef& in = *plan.inputs[0];
    const TensorRef& out = *plan.outputs[0];
    if (in.is_constant || is_output[out.id] || graph->tensors[in.id].is_variable ||
        graph->tensors[out.id].is_variable || in.dtype != out.dtype || in.byte_size() != out.byte_size())
      continue;
    memory_of[out.id] = memory_of[in.id];
    plan.kernel = &kAliasKernel;
    plan.folded = true;
    plan.data.reset();
    plan.scratch_bytes = 0;
  }
}

// A scatter-update whose x no op reads after it writes its output over x (the output takes x's
// memory): it reads x and writes back only what changes. When x is another scatter-update's
// output (YOLOX's decode: the boxes' centres, then their sizes computed from that output), it
// writes only the positions either op updates (scatter_update.h). Not when x's memory holds a
// graph input or output or a variable.
void Interpreter::Impl::run_scatter_updates_in_place() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto producers = graph->producers();
  std::vector<char> kept(tensors.size(), 0);  // graph inputs, outputs, variables
  for (int32_t t : graph->inputs) kept[t] = 1;
  for (int32_t t : graph->outputs) kept[t] = 1;
  for (size_t t = 0; t < tensors.size(); ++t) kept[t] = kept[t] || graph->tensors[t].is_variable;
  std::vector<int32_t> last_reader(tensors.size(), -1);  // per memory (a view's reads count for its source)
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].folded) continue;
    for (const TensorRef* t : ops[i].inputs)
      if (t) last_reader[memory_of[t->id]] = static_cast<int32_t>(i);
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& plan = ops[i];
    if (plan.folded || plan.kernel != &kScatterUpdateKernel) continue;
    const int32_t x = plan.inputs[0]->id, out = plan.outputs[0]->id, memory = memory_of[x];
    if (memory_of[out] != out || graph->tensors[out].is_variable || last_reader[memory] != static_cast<int32_t>(i) ||
        tensors[x].byte_size() != tensors[out].byte_size())
      continue;
    bool free = true;
    for (size_t t = 0; t < tensors.size(); ++t) free = free && !(memory_of[t] == memory && kept[t]);
    if (!free) continue;
    const int32_t first = producers[x];
    const bool chained = first >= 0 && !ops[first].folded && ops[first].kernel == &kScatterUpdateKernel;
    if (!(chained ? run_in_place_after(*plan.data, *plan.inputs[1], *ops[first].data) : run_in_place(*plan.data)))
      continue;
    for (int32_t& m : memory_of)
      if (m == out) m = memory;
    last_reader[memory] = std::max(last_reader[memory], last_reader[out]);
  }
}

// Integer activations left to the reference kernels (every int16 one; 8-bit ones no fast kernel
// took), and every requantizing QUANTIZE whatever kernel took it, become table lookups made by
// those kernels (lut_fusion.h): the same bytes, one load each.
void Interpreter::Impl::tabulate_activations() {
  if (!options.use_fast_kernels) return;
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& plan = ops[i];
    if (plan.folded || !plan.kernel || !tabulable_unary(*graph, static_cast<int32_t>(i))) continue;
    if (graph->ops[i].kind != graph::OpKind::kQuantize && std::strcmp(plan.kernel->name, "reference") != 0)
      continue;
    auto lut = unary_lut(*graph, static_cast<int32_t>(i), *plan.kernel);
    if (!lut.ok()) continue;
    plan.kernel = &kLutKernel;
    plan.data = std::move(*lut);
    plan.scratch_bytes = 0;
  }
}

// Quantized SiLU pairs become one table lookup (lut_fusion.h); a pair whose table cannot be
// made runs unfused. Float pairs become one pass (kSiluFloatKernel). Not when intermediates are
// kept: LOGISTIC's output is never written.
void Interpreter::Impl::fuse_silu() {
  if (options.keep_intermediates) return;
  for (const SiluPair& pair : find_silu_pairs(*graph)) {
    OpPlan& logistic = ops[pair.logistic_op];
    OpPlan& mul = ops[pair.mul_op];
    if (logistic.folded || mul.folded) continue;
    auto lut = silu_lut(*graph, pair, *logistic.kernel, *mul.kernel);
    if (!lut.ok()) continue;
    mul.kernel = &kLutKernel;
    mul.data = std::move(*lut);
    mul.scratch_bytes = 0;
    mul.inputs = {&tensors[pair.input]};
    mark_fused(logistic);
  }
  // Float pairs: one pass computing x * sigmoid(x) (silu_float.cpp), when fast kernels are on.
  // Its results are within a few ulp of XNNPACK's pair, not equal: where a float region feeds a
  // QUANTIZE (the float islands of int8 models), an ulp can move a value across a rounding tie
  // and the step spreads through the int8 layers after it, away from the official TFLite's
  // bytes. Those plans (exact_float) run XNNPACK's pair's own arithmetic in one pass
  // (simd::kSiluExact) where it gives the pair's bytes on this CPU (checked once a process), or
  // else the pair itself a block at a time (xnn::kSiluBlocked), without the tensor-sized temporary.
  if (!options.use_fast_kernels) return;
  const auto exact_silu_one_pass = [] {
    static const bool same = simd::silu_exact_available() && xnn::silu_matches(simd::silu_exact);
    return same;
  };
  for (const SiluPair& pair : find_silu_pairs(*graph, /*float32=*/true)) {
    OpPlan& logistic = ops[pair.logistic_op];
    OpPlan& mul = ops[pair.mul_op];
    if (logistic.folded || mul.folded || !logistic.kernel || !mul.kernel) continue;
    std::unique_ptr<OpData> data;
    const Kernel* kernel = &kSiluFloatKernel;
    if (exact_float) {
      if (std::strcmp(logistic.kernel->name, "xnnpack") != 0 || std::strcmp(mul.kernel->name, "xnnpack") != 0)
        continue;
      kernel = &xnn::kSiluBlocked;
      if (exact_silu_one_pass()) {
        kernel = &simd::kSiluExact;
      } else {
        auto blocked = xnn::silu_blocked_data(options.num_threads);
        if (!blocked.ok()) continue;
        data = std::move(*blocked);
      }
    }
    mul.kernel = kernel;
    mul.data = std::move(data);
    mul.scratch_bytes = 0;
    mul.inputs = {&tensors[pair.input]};
    mark_fused(logistic);
  }
  // A one-pass float SiLU read only by an ADD (a residual connection) takes the ADD in: the
  // addend is added as each value is written, and the SiLU's output is never stored.
  if (exact_float) return;
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    OpPlan& mul = ops[i];
    if (mul.kernel != &kSiluFloatKernel || mul.folded || graph->ops[i].outputs.size() != 1) continue;
    const int32_t y = graph->ops[i].outputs[0];
    if (consumers[y].size() != 1 || std::find(graph->outputs.begin(), graph->outputs.end(), y) != graph->outputs.end())
      continue;
    const int32_t a = consumers[y][0];
    const graph::Op& add = graph->ops[a];
    OpPlan& add_plan = ops[a];
    if (add.kind != graph::OpKind::kAdd || add.inputs.size() != 2 || add.outputs.size() != 1 || add_plan.folded ||
        add.attrs.activation != graph::Activation::kNone || add.inputs[0] == add.inputs[1])
      continue;
    const int32_t other = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    const TensorRef& o = tensors[other];
    if (other < 0 || o.dtype != DType::kFloat32 || o.shape != tensors[y].shape ||
        tensors[add.outputs[0]].shape != tensors[y].shape)
      continue;
    add_plan.kernel = &kSiluAddFloatKernel;
    add_plan.data.reset();
    add_plan.scratch_bytes = 0;
    add_plan.inputs = {mul.inputs[0], &tensors[other]};
    mark_fused(mul);
  }
}

// A space-to-depth block (CONCATENATION of STRIDED_SLICEs of one tensor, slice_concat.h) becomes
// one copy from the source: the slices are skipped and their outputs never written.
void Interpreter::Impl::fuse_slice_concats() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (graph->ops[i].kind != graph::OpKind::kConcatenation || ops[i].folded) continue;
    auto block = find_slice_concat(*graph, static_cast<int32_t>(i), tensors, producers, consumers);
    if (!block) continue;
    bool all_run = true;
    for (int32_t s : block->slice_ops) all_run = all_run && !ops[s].folded;
    if (!all_run) continue;
    for (int32_t s : block->slice_ops) {
      mark_fused(ops[s]);
    }
    OpPlan& concat = ops[i];
    concat.kernel = &kSliceConcatKernel;
    concat.data = std::move(block->data);
    concat.scratch_bytes = 0;
    concat.inputs = {&tensors[block->source]};
  }
}

// TensorFlow's tensor_scatter_nd_update, ADD(MUL(x, K), SCATTER_ND(...)), becomes one pass
// (scatter_update.h): the same bytes, no tensor-sized temporaries.
void Interpreter::Impl::fuse_scatter_updates() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  std::vector<const char*> names(ops.size(), nullptr);
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].kernel && !ops[i].folded) names[i] = ops[i].kernel->name;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (graph->ops[i].kind != graph::OpKind::kAdd || ops[i].folded) continue;
    auto found = find_scatter_update(*graph, static_cast<int32_t>(i), tensors, names, producers, consumers);
    if (!found) continue;
    for (int32_t fused : {found->mul_op, found->scatter_op}) {
      mark_fused(ops[fused]);
      names[fused] = nullptr;
    }
    OpPlan& add = ops[i];
    add.kernel = &kScatterUpdateKernel;
    add.data = std::move(found->data);
    add.scratch_bytes = 0;
    add.inputs = {&tensors[found->x], &tensors[found->k], &tensors[found->updates]};
  }
}

// An NCHW head join, TRANSPOSE -> RESHAPE -> CONCATENATION -> TRANSPOSE back
// (transpose_concat.h), becomes one copy of each level into its rows.
void Interpreter::Impl::fuse_transpose_concats() {
  if (options.keep_intermediates || !options.use_fast_kernels) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (graph->ops[i].kind != graph::OpKind::kTranspose || ops[i].folded) continue;
    auto found = find_transpose_concat(*graph, static_cast<int32_t>(i), tensors, producers, consumers);
    if (!found) continue;
    bool all_run = true;
    for (int32_t op : found->fused_ops) all_run = all_run && !ops[op].folded;
    if (!all_run) continue;
    for (int32_t op : found->fused_ops) {
      mark_fused(ops[op]);
    }
    OpPlan& last = ops[i];
    last.kernel = &kTransposeConcatKernel;
    last.data = std::move(found->data);
    last.scratch_bytes = 0;
    last.inputs.clear();
    for (int32_t source : found->sources) last.inputs.push_back(&tensors[source]);
  }
}

// A float CONCATENATION on the last axis computes the one-pass SiLUs that feed it as it copies
// (concat_silu.h): the SiLU outputs are never stored.
void Interpreter::Impl::fuse_concat_silus() {
  if (options.keep_intermediates || !options.use_fast_kernels || exact_float) return;
  const auto producers = graph->producers();
  const auto consumers = graph->consumers();
  std::vector<const Kernel*> kernels(ops.size(), nullptr);
  std::vector<std::vector<TensorRef*>> inputs(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].folded) continue;
    kernels[i] = ops[i].kernel;
    inputs[i] = ops[i].inputs;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (graph->ops[i].kind != graph::OpKind::kConcatenation || ops[i].folded) continue;
    auto found = find_concat_silu(*graph, static_cast<int32_t>(i), tensors, kernels, inputs, producers, consumers);
    if (!found) continue;
    for (int32_t op : found->fused_ops) {
      mark_fused(ops[op]);
      kernels[op] = nullptr;
    }
    OpPlan& concat = ops[i];
    concat.kernel = &kConcatSiluKernel;
    concat.data = std::move(found->data);
    concat.scratch_bytes = 0;
    concat.inputs.clear();
    for (int32_t id : found->inputs) concat.inputs.push_back(&tensors[id]);
  }
}

uint64_t Interpreter::Impl::budget() const {
  return options.max_memory_bytes ? options.max_memory_bytes : memory_budget();
}

std::string Interpreter::Impl::describe_tensor(int32_t id, uint64_t bytes) const {
  return fmt::format("tensor {} '{}' {}{} {}", id, graph->tensors[id].name, dtype_name(tensors[id].dtype),
                     shape_to_string(tensors[id].shape), format_bytes(bytes));
}

// Before any kernel prepares (some allocate in proportion to their activations): the inputs and
// outputs of one op live at the same time, so the op that touches the most activation bytes
// bounds the arena from below.
Status Interpreter::Impl::check_op_memory() const {
  auto activations = [&](size_t op) {
    std::vector<int32_t> ids;
    for (const auto* list : {&graph->ops[op].inputs, &graph->ops[op].outputs})
      for (int32_t id : *list)
        if (id >= 0 && !tensors[id].is_constant) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  uint64_t worst = 0;
  size_t worst_op = 0;
  for (size_t i = 0; i < graph->ops.size(); ++i) {
    uint64_t bytes = 0;
    for (int32_t id : activations(i)) bytes += tensors[id].byte_size();
    if (bytes > worst) worst = bytes, worst_op = i;
  }
  if (worst <= budget()) return ok_status();
  std::string names;
  for (int32_t id : activations(worst_op))
    names += (names.empty() ? "" : ", ") + describe_tensor(id, tensors[id].byte_size());
  return out_of_range(
      "the model's activations need at least {} of memory (op {} ({})), over the memory budget of {} "
      "(--max-memory); its tensors: {}",
      format_bytes(worst), worst_op, graph->ops[worst_op].name(), format_bytes(budget()), names);
}

Status Interpreter::Impl::plan_memory() {
  const auto num_ops = static_cast<int32_t>(graph->ops.size());
  const int32_t forever = num_ops;  // past the last op: memory that stays valid
  const size_t n = tensors.size();
  std::vector<int32_t> first(n, -1), last(n, -1);
  auto touch = [&](int32_t id, int32_t step) {
    id = memory_of[id];  // a view keeps its source's memory alive
    if (first[id] < 0 || step < first[id]) first[id] = step;
    last[id] = std::max(last[id], step);
  };
  for (int32_t i = 0; i < num_ops; ++i) {
    if (ops[i].folded) continue;
    for (const TensorRef* t : ops[i].inputs)
      if (t) touch(t->id, i);
    for (const TensorRef* t : ops[i].outputs) touch(t->id, i);
  }
  for (int32_t id : graph->inputs) {
    touch(id, 0);
    touch(id, forever);
  }
  for (int32_t id : graph->outputs) touch(id, forever);
  for (size_t id = 0; id < n; ++id) {
    if (graph->tensors[id].is_variable && first[id] >= 0) {
      touch(static_cast<int32_t>(id), 0);
      touch(static_cast<int32_t>(id), forever);
    }
  }

  std::vector<BufferRequest> requests;
  std::vector<int32_t> request_tensor;  // tensor id, or -1 - op index for scratch
  for (size_t id = 0; id < n; ++id) {
    if (tensors[id].is_constant || first[id] < 0 || memory_of[id] != static_cast<int32_t>(id)) continue;
    BufferRequest r{.bytes = tensors[id].byte_size(), .first = first[id], .last = last[id]};
    if (options.keep_intermediates) r = {.bytes = r.bytes, .first = 0, .last = forever};
    requests.push_back(r);
    request_tensor.push_back(static_cast<int32_t>(id));
  }
  for (int32_t i = 0; i < num_ops; ++i) {
    if (ops[i].scratch_bytes == 0) continue;
    requests.push_back({.bytes = ops[i].scratch_bytes, .first = i, .last = i});
    request_tensor.push_back(-1 - i);
  }
  const ArenaPlan plan = plan_arena(requests);
  arena_bytes = plan.total_bytes;
  if (arena_bytes + kKernelReadTailBytes > budget()) {
    // One error that says what to shrink: the three largest buffers.
    std::vector<size_t> largest(requests.size());
    for (size_t r = 0; r < largest.size(); ++r) largest[r] = r;
    std::stable_sort(largest.begin(), largest.end(),
              [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
    largest.resize(std::min<size_t>(largest.size(), 3));
    std::string names;
    for (size_t r : largest) {
      if (!names.empty()) names += ", ";
      const int32_t id = request_tensor[r];
      if (id >= 0)
        names += describe_tensor(id, requests[r].bytes);
      else
        names += fmt::format("op {} scratch {}", -1 - id, format_bytes(requests[r].bytes));
    }
    return out_of_range(
        "the model's activations need {} of memory, over the memory budget of {} "
        "(--max-memory); largest: {}",
        format_bytes(arena_bytes + kKernelReadTailBytes), format_bytes(budget()), names);
  }
  if (arena_bytes > 0) {
    // kKernelReadTailBytes past the last buffer: fast kernels may over-read inputs (kernel.h).
    const size_t allocated = arena_bytes + kKernelReadTailBytes;
    arena.reset(new (std::align_val_t(kArenaAlignment)) uint8_t[allocated]);
    // Zeroed once so that nothing a kernel leaves unwritten ever depends on earlier runs.
    std::memset(arena.get(), 0, allocated);
  }
  for (size_t r = 0; r < requests.size(); ++r) {
    uint8_t* p = requests[r].bytes == 0 ? g_empty_tensor : arena.get() + plan.offsets[r];
    if (request_tensor[r] >= 0)
      tensors[request_tensor[r]].data = p;
    else
      ops[-1 - request_tensor[r]].scratch = p;
  }
  for (size_t id = 0; id < n; ++id)
    if (memory_of[id] != static_cast<int32_t>(id)) tensors[id].data = tensors[memory_of[id]].data;
  return ok_status();
}

Status Interpreter::Impl::build() {
  QDET_TRY(graph->verify());
  if (options.num_threads < 1)
    return invalid_argument("num_threads must be at least 1 (got {})", options.num_threads);
  if (options.num_threads > 1) {
    pool.reset(pthreadpool_create(static_cast<size_t>(options.num_threads)));
    if (!pool) return internal_error("cannot create a pool of {} threads", options.num_threads);
  }
  for (int32_t id : graph->inputs) input_shapes.push_back(graph->tensors[id].shape);
  exact_float = options.exact_float;
  for (const graph::Op& op : graph->ops) exact_float = exact_float || op.kind == graph::OpKind::kQuantize;
  return plan();
}

// The whole plan from the graph and input_shapes: nothing of an earlier plan survives.
Status Interpreter::Impl::plan() {
  ops.clear();
  folded_buffers.clear();
  folded_bytes = 0;
  arena.reset();
  arena_bytes = 0;
  tensors.assign(graph->tensors.size(), TensorRef{});
  for (size_t id = 0; id < tensors.size(); ++id) {
    const graph::Tensor& t = graph->tensors[id];
    TensorRef& ref = tensors[id];
    ref.id = static_cast<int32_t>(id);
    ref.dtype = t.dtype;
    ref.shape = t.shape;
    ref.quant = &t.quant;
    ref.is_constant = t.is_constant();
    // Constants are read in place from the shared graph; kernels never write their inputs.
    if (ref.is_constant) ref.data = const_cast<uint8_t*>(t.data.data());
  }
  resized = false;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const int32_t id = graph->inputs[i];
    tensors[id].shape = input_shapes[i];
    resized = resized || input_shapes[i] != graph->tensors[id].shape;
  }
  QDET_TRY(check_op_memory());
  ops.resize(graph->ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    QDET_TRY(prepare_op(i));
    if (can_fold(i)) QDET_TRY(fold_op(i));
  }
  fuse_silu();
  fuse_slice_concats();
  fuse_scatter_updates();
  fuse_transpose_concats();
  fuse_concat_silus();
  tabulate_activations();
  fuse_output_tables();
  fuse_conv_silus();
  fold_pads();
  alias_reshapes();
  run_scatter_updates_in_place();
  QDET_TRY(plan_memory());
  planned_shapes = input_shapes;
  needs_plan = false;
  return ok_status();
}

// "input 0 'images' resized from [1,416,416,3] to [1,320,320,3]", for every resized input.
std::string Interpreter::Impl::describe_resized_inputs() const {
  std::string out;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const graph::Tensor& t = graph->tensors[graph->inputs[i]];
    if (input_shapes[i] == t.shape) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("input {} '{}' resized from {} to {}", i, t.name, shape_to_string(t.shape),
                       shape_to_string(input_shapes[i]));
  }
  return out;
}

Interpreter::Interpreter() : impl_(std::make_unique<Impl>()) {}
Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::create(std::shared_ptr<const graph::Graph> graph,
                                                         const InterpreterOptions& options) {
  if (!graph) return invalid_argument("Interpreter::create: no graph");
  std::unique_ptr<Interpreter> interpreter(new Interpreter());
  interpreter->impl_->graph = std::move(graph);
  interpreter->impl_->options = options;
  QDET_TRY(interpreter->impl_->build());
  return interpreter;
}

size_t Interpreter::num_inputs() const { return impl_->graph->inputs.size(); }
size_t Interpreter::num_outputs() const { return impl_->graph->outputs.size(); }
TensorRef& Interpreter::input(size_t i) { return impl_->tensors[impl_->graph->inputs.at(i)]; }
const TensorRef& Interpreter::output(size_t i) const {
  return impl_->tensors[impl_->graph->outputs.at(i)];
}
const TensorRef& Interpreter::tensor(int32_t id) const {
  return impl_->tensors.at(static_cast<size_t>(id));
}
const graph::Graph& Interpreter::graph() const { return *impl_->graph; }
size_t Interpreter::arena_bytes() const { return impl_->arena_bytes; }
const char* Interpreter::kernel_name(size_t op_index) const {
  return impl_->ops.at(op_index).kernel->name;
}

Status Interpreter::resize_input(size_t i, const Shape& shape, bool strict) {
  if (i >= num_inputs())
    return out_of_range("resize_input: input {} of a model with {} inputs", i, num_inputs());
  const graph::Tensor& t = impl_->graph->tensors[impl_->graph->inputs[i]];
  const auto fail = [&](std::string_view why) {
    return invalid_argument("cannot resize input {} '{}' ({}) to {}: {}", i, t.name,
                            shape_to_string(t.shape), shape_to_string(shape), why);
  };
  for (int32_t d : shape)
    if (d < 1) return fail("every dim must be positive");
  if (shape.size() > 8) return fail("more than 8 dims");
  if (!checked_num_elements(shape)) return fail("over 2^40 elements");
  if (strict) {
    // TFLite's ResizeInputTensorStrict: only the dims the signature leaves open (-1) change.
    if (shape.size() != t.shape.size()) return fail("strict resizing keeps the rank");
    for (size_t k = 0; k < shape.size(); ++k) {
      const bool open = !t.shape_signature.empty() && t.shape_signature[k] == -1;
      if (shape[k] != t.shape[k] && !open)
        return fail(fmt::format("strict resizing changes only the dims that shape_signature {} "
                                "marks -1, and dim {} is fixed",
                                t.shape_signature.empty() ? std::string("(absent)")
                                                          : shape_to_string(t.shape_signature),
                                k));
    }
  }
  if (shape == impl_->input_shapes[i]) return ok_status();
  impl_->input_shapes[i] = shape;
  impl_->needs_plan = impl_->input_shapes != impl_->planned_shapes;
  return ok_status();
}

Status Interpreter::allocate_tensors() {
  Status s = impl_->plan();
  if (s.ok()) return s;
  const std::string what = impl_->describe_resized_inputs();
  impl_->input_shapes = impl_->planned_shapes;
  Status back = impl_->plan();
  if (!back.ok())
    return internal_error("{}; planning again at the previous shapes failed too: {}", s.message(),
                          back.message());
  return what.empty() ? s : s.with_context(what);
}

bool Interpreter::inputs_resized() const { return impl_->resized; }

Status Interpreter::invoke() {
  if (impl_->needs_plan)
    return invalid_argument("an input was resized: call allocate_tensors() before invoke()");
  for (size_t i = 0; i < impl_->ops.size(); ++i) QDET_TRY(impl_->run_op(i));
  return ok_status();
}

Status Interpreter::invoke_profiled(std::vector<int64_t>& op_ns) {
  if (impl_->needs_plan)
    return invalid_argument("an input was resized: call allocate_tensors() before invoke()");
  op_ns.resize(impl_->ops.size(), 0);
  for (size_t i = 0; i < impl_->ops.size(); ++i) {
    const int64_t t0 = now_ns();
    QDET_TRY(impl_->run_op(i));
    op_ns[i] += now_ns() - t0;
  }
  return ok_status();
}

}  // namespace qdet::rt
