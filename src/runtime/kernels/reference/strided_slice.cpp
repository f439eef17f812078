// STRIDED_SLICE for every dtype, as TFLite's strided_slice.cc (TF >= 2.12): the ellipsis and
// new-axis masks are first expanded into an "effective" input shape (new axes are dims of 1),
// then per dim: negative indices count from the end, begin/end are clamped to [0, dim] for
// positive strides and [-1, dim-1] for negative ones, begin_mask/end_mask select the whole
// range, `offset` makes end relative to begin, shrink_axis takes one element and drops the dim.
// Begin, end and strides must be constant (the output shape is fixed when the plan is built).
#include <cmath>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// One dim of the effective input shape, with its slice as given.
struct Dim {
  int64_t size, start = 0, stop = 0, stride = 1;
  bool begin_mask = false, end_mask = false, shrink = false;
};

// The effective dims: the ellipsis and the new axes expanded (TFLite's BuildStridedSliceParams).
Result<std::vector<Dim>> effective_dims(const Shape& in_shape, const std::vector<int64_t>& begin,
                                        const std::vector<int64_t>& end, const std::vector<int64_t>& strides,
                                        const graph::OpAttrs& a) {
  const int begin_count = static_cast<int>(begin.size());
  const int input_dims = static_cast<int>(in_shape.size());
  int num_add_axis = 0;
  for (int i = 0; i < begin_count; ++i)
    if (!((1 << i) & a.ellipsis_mask) && ((1 << i) & a.new_axis_mask)) ++num_add_axis;
  const int eff_dims = input_dims + num_add_axis;
  if (eff_dims > StridedCopy::kMaxRank)
    return unsupported("more than {} dims including new axes", StridedCopy::kMaxRank);
  int64_t eff_ellipsis = 0, eff_new_axis = 0;
  int ellipsis_start = eff_dims, expanded_ellipsis = 0;
  for (int i = 0; i < eff_dims;) {
    if ((1 << i) & a.ellipsis_mask) {
      ellipsis_start = i;
      const int ellipsis_end =
          std::max(i + 1, std::min(i + 1 + num_add_axis + input_dims - begin_count, eff_dims));
      expanded_ellipsis = ellipsis_end - ellipsis_start - 1;
      for (; i < ellipsis_end; ++i) eff_ellipsis |= int64_t{1} << i;
      continue;
    }
    if (i - expanded_ellipsis < 31 && ((1 << (i - expanded_ellipsis)) & a.new_axis_mask))
      eff_new_axis |= int64_t{1} << i;
    ++i;
  }

  std::vector<Dim> dims(eff_dims);
  int added_ellipsis = 0, added_axes = 0;
  for (int i = 0; i < eff_dims; ++i) {
    Dim& dim = dims[i];
    auto input_dim = [&]() -> Result<int64_t> {
      const int k = i - added_axes;
      if (k < 0 || k >= input_dims) return invalid_argument("masks address more dims than the input has");
      return static_cast<int64_t>(in_shape[k]);
    };
    if ((int64_t{1} << i) & eff_ellipsis) {
      added_ellipsis = std::max(0, i - ellipsis_start);
      dim.begin_mask = dim.end_mask = true;
      QDET_ASSIGN_OR_RETURN(dim.size, input_dim());
    } else if ((int64_t{1} << i) & eff_new_axis) {
      dim.size = 1;
      dim.stop = 1;
      ++added_axes;
    } else if (i >= begin_count + expanded_ellipsis) {
      dim.begin_mask = dim.end_mask = true;
      QDET_ASSIGN_OR_RETURN(dim.size, input_dim());
    } else {
      const int k = i - added_ellipsis;
      if (k < 0 || k >= begin_count) return invalid_argument("masks address more dims than begin has");
      dim.start = begin[k];
      dim.stop = end[k];
      dim.stride = strides[k];
      dim.begin_mask = (a.begin_mask >> k) & 1;
      dim.end_mask = (a.end_mask >> k) & 1;
      dim.shrink = (a.shrink_axis_mask >> k) & 1;
      QDET_ASSIGN_OR_RETURN(dim.size, input_dim());
    }
  }
  return dims;
}

// The copy that takes the slice of the effective dims, and the output shape (shrunk dims dropped).
Status plan_copy(const std::vector<Dim>& dims, bool offset, StridedCopy& c, Shape& out_shape) {
  const int eff_dims = static_cast<int>(dims.size());
  c.rank = eff_dims;
  int64_t stride_bytes = static_cast<int64_t>(c.element_bytes);
  for (int i = eff_dims - 1; i >= 0; --i) {
    const Dim& dim = dims[i];
    if (dim.stride == 0) return invalid_argument("stride of dim {} is 0", i);
    // StridedSliceStartForAxis
    int64_t start = dim.start;
    if (start < 0) start += dim.size;
    start = dim.stride > 0 ? clamp64(start, 0, dim.size) : clamp64(start, -1, dim.size - 1);
    if (dim.begin_mask) start = dim.stride > 0 ? 0 : dim.size - 1;
    // StridedSliceEndForAxis
    int64_t stop;
    if (dim.shrink) {
      if (start < 0 || start >= dim.size)
        return invalid_argument("shrink_axis index {} is out of range for dim {} of size {}",
                                dims[i].start, i, dim.size);
      stop = start + 1;
    } else {
      stop = dim.stop;
      if (offset) stop += start;
      if (stop < 0) stop += dim.size;
      stop = dim.stride > 0 ? clamp64(stop, 0, dim.size) : clamp64(stop, -1, dim.size - 1);
      if (dim.end_mask) stop = dim.stride > 0 ? dim.size : -1;
    }
    const int64_t span = stop - start;
    int64_t count = span == 0 ? 0 : (span + dim.stride + (dim.stride > 0 ? -1 : 1)) / dim.stride;
    if (count < 0) count = 0;
    if (dim.shrink) count = 1;
    if (dim.size == 0) count = 0;
    c.count[i] = count;
    c.stride[i] = dim.stride * stride_bytes;
    if (count > 0) c.start += start * stride_bytes;
    stride_bytes *= dim.size;
    if (!dim.shrink) out_shape.insert(out_shape.begin(), static_cast<int32_t>(count));
  }
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 4, 4));
  QDET_ASSIGN_OR_RETURN(auto begin, read_constant_ints(ctx.inputs[1], "the begin input"));
  QDET_ASSIGN_OR_RETURN(auto end, read_constant_ints(ctx.inputs[2], "the end input"));
  QDET_ASSIGN_OR_RETURN(auto strides, read_constant_ints(ctx.inputs[3], "the strides input"));
  const auto& a = ctx.op.attrs;
  if (end.size() != begin.size() || strides.size() != begin.size())
    return invalid_argument("begin, end and strides have {}, {} and {} values", begin.size(),
                            end.size(), strides.size());
  if (begin.size() > 30) return invalid_argument("too many slice dims ({})", begin.size());
  if (a.ellipsis_mask & (a.ellipsis_mask - 1))
    return invalid_argument("more than one ellipsis in ellipsis_mask {}", a.ellipsis_mask);
  QDET_ASSIGN_OR_RETURN(const std::vector<Dim> dims, effective_dims(in.shape, begin, end, strides, a));
  StridedCopy copy;
  copy.element_bytes = dtype_size(in.dtype);
  Shape out_shape;
  QDET_TRY(plan_copy(dims, a.offset, copy, out_shape));
  return set_strided_copy(ctx, copy, out_shape);
}

}  // namespace

const Kernel kStridedSlice = {"reference", prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
