// BATCH_MATMUL (TFLite batch_matmul.cc, reference_ops::BatchMatMul): out[..., m, n] =
// sum_k lhs[..., m, k] * rhs[..., k, n], with adj_x / adj_y transposing the last two dims of
// lhs / rhs, and the batch dims (rank 2 to 5) broadcast NumPy-style.
//   float32: that sum;
//   int8, int16: acc = sum (l - z_l) * (r - z_r) in int32 (int64 for int16),
//     out = clamp(MultiplyByQuantizedMultiplier(acc, M = float(s_l * s_r) / s_out) + z_out);
//     TFLite requires zero points 0 for int16.
#include "runtime/kernels/reference/common.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::ref {
namespace {

constexpr int kMaxBatchDims = 3;

struct MatmulData : OpData {
  int64_t m = 0, k = 0, n = 0;
  int batch_rank = 0;
  int64_t batch[kMaxBatchDims] = {1, 1, 1};
  int64_t lhs_stride[kMaxBatchDims] = {}, rhs_stride[kMaxBatchDims] = {};  // 0: broadcast
  int64_t lhs_m = 0, lhs_k = 0, rhs_k = 0, rhs_n = 0;  // element strides inside one matrix
  int32_t lhs_zp = 0, rhs_zp = 0, out_zp = 0;
  QuantizedMultiplier multiplier;
};

// The batch dims of a [..., rows, cols] operand right-aligned to `rank`, and its stride per dim.
Status fill_batch(const Shape& s, const Shape& out_batch, int64_t* stride) {
  const int rank = static_cast<int>(out_batch.size());
  const int own = static_cast<int>(s.size()) - 2;
  int64_t st = static_cast<int64_t>(s[s.size() - 2]) * s[s.size() - 1];
  for (int i = rank - 1; i >= 0; --i) {
    const int j = i - (rank - own);
    const int64_t dim = j >= 0 ? s[j] : 1;
    stride[i] = dim == 1 ? 0 : st;
    st *= dim;
  }
  return ok_status();
}

Status prepare_shapes(PrepareContext& ctx, MatmulData& d) {
  const TensorRef& lhs = *ctx.inputs[0];
  const TensorRef& rhs = *ctx.inputs[1];
  const int lr = static_cast<int>(lhs.shape.size()), rr = static_cast<int>(rhs.shape.size());
  if (lr < 2 || rr < 2 || lr > 5 || rr > 5)
    return invalid_argument("operands {} and {} must have rank 2 to 5", shape_to_string(lhs.shape),
                            shape_to_string(rhs.shape));
  const auto& a = ctx.op.attrs;
  const int64_t l_rows = lhs.shape[lr - 2], l_cols = lhs.shape[lr - 1];
  const int64_t r_rows = rhs.shape[rr - 2], r_cols = rhs.shape[rr - 1];
  d.m = a.adj_x ? l_cols : l_rows;
  d.k = a.adj_x ? l_rows : l_cols;
  d.n = a.adj_y ? r_rows : r_cols;
  if ((a.adj_y ? r_cols : r_rows) != d.k)
    return invalid_argument("inner dims differ: {} and {}", shape_to_string(lhs.shape), shape_to_string(rhs.shape));
  d.lhs_m = a.adj_x ? 1 : l_cols, d.lhs_k = a.adj_x ? l_cols : 1;
  d.rhs_k = a.adj_y ? 1 : r_cols, d.rhs_n = a.adj_y ? r_cols : 1;
  const Shape lb(lhs.shape.begin(), lhs.shape.end() - 2), rb(rhs.shape.begin(), rhs.shape.end() - 2);
  QDET_ASSIGN_OR_RETURN(Shape out_batch, broadcast_shapes(lb, rb));
  d.batch_rank = static_cast<int>(out_batch.size());
  for (int i = 0; i < d.batch_rank; ++i) d.batch[i] = out_batch[i];
  QDET_TRY(fill_batch(lhs.shape, out_batch, d.lhs_stride));
  QDET_TRY(fill_batch(rhs.shape, out_batch, d.rhs_stride));
  Shape out = out_batch;
  out.push_back(static_cast<int32_t>(d.m));
  out.push_back(static_cast<int32_t>(d.n));
  ctx.outputs[0]->shape = out;
  return ok_status();
}

Status prepare_quantized(const TensorRef& lhs, const TensorRef& rhs, const TensorRef& out, MatmulData& d) {
  for (const TensorRef* t : {&lhs, &rhs, &out})
    if (!is_quantized(*t) || t->quant->scale.size() != 1 || !(t->scale() > 0))
      return unsupported("BATCH_MATMUL on {} needs per-tensor quantization", dtype_name(lhs.dtype));
  d.lhs_zp = lhs.zero_point(), d.rhs_zp = rhs.zero_point(), d.out_zp = out.zero_point();
  if (lhs.dtype == DType::kInt16 && (d.lhs_zp || d.rhs_zp || d.out_zp))
    return invalid_argument("BATCH_MATMUL on int16 needs zero points 0");
  d.multiplier = quantize_multiplier(static_cast<double>(lhs.scale() * rhs.scale()) / static_cast<double>(out.scale()));
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& lhs = *ctx.inputs[0];
  const TensorRef& rhs = *ctx.inputs[1];
  const TensorRef& out = *ctx.outputs[0];
  QDET_TRY(expect_operand_dtypes(lhs, rhs, out, {DType::kFloat32, DType::kInt8, DType::kInt16}, "the second operand"));
  auto d = std::make_unique<MatmulData>();
  if (lhs.dtype != DType::kFloat32) QDET_TRY(prepare_quantized(lhs, rhs, out, *d));
  QDET_TRY(prepare_shapes(ctx, *d));
  return keep_op_data(ctx, std::move(d));
}

template <typename T, typename Acc>
void matmul(const MatmulData& d, const T* lhs, const T* rhs, T* out) {
  int64_t idx[kMaxBatchDims] = {};
  int64_t batches = 1;
  for (int i = 0; i < d.batch_rank; ++i) batches *= d.batch[i];
  for (int64_t b = 0; b < batches; ++b) {
    int64_t lo = 0, ro = 0;
    for (int i = 0; i < d.batch_rank; ++i) lo += idx[i] * d.lhs_stride[i], ro += idx[i] * d.rhs_stride[i];
    for (int64_t m = 0; m < d.m; ++m)
      for (int64_t n = 0; n < d.n; ++n) {
        Acc acc = 0;
        for (int64_t k = 0; k < d.k; ++k)
          acc += (static_cast<Acc>(lhs[lo + m * d.lhs_m + k * d.lhs_k]) - d.lhs_zp) *
                 (static_cast<Acc>(rhs[ro + k * d.rhs_k + n * d.rhs_n]) - d.rhs_zp);
        if constexpr (std::is_same_v<T, float>) {
          *out++ = acc;
        } else {
          const int32_t v = multiply_by_quantized_multiplier(acc, d.multiplier.multiplier, d.multiplier.shift) + d.out_zp;
          *out++ = static_cast<T>(std::clamp<int32_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        }
      }
    for (int i = d.batch_rank - 1; i >= 0; --i) {
      if (++idx[i] < d.batch[i]) break;
      idx[i] = 0;
    }
  }
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MatmulData>(ctx);
  // float sums in float; int8 in int32 and int16 in int64, as TFLite.
  return with_typed_binary_io<float, int8_t, int16_t>(ctx, "BATCH_MATMUL", [&]<typename T>(const T* lhs, const T* rhs, T* out) {
    using Acc = std::conditional_t<std::is_same_v<T, float>, float, std::conditional_t<std::is_same_v<T, int8_t>, int32_t, int64_t>>;
    matmul<T, Acc>(d, lhs, rhs, out);
  });
}

}  // namespace

const Kernel kBatchMatmul = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
