// RESHAPE for every dtype (a byte copy): the new shape comes from the constant shape input
// when present (TFLite: a 1-D int32 tensor), else from the options' new_shape; one dim may be
// -1 and is inferred from the element count.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 1, 2));
  const TensorRef* shape_in = ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
  std::vector<int64_t> dims;
  if (shape_in && shape_in->shape.size() == 1) {
    QDET_ASSIGN_OR_RETURN(dims, read_constant_ints(shape_in, "the shape input"));
  } else if (ctx.op.attrs.has_new_shape) {
    dims.assign(ctx.op.attrs.new_shape.begin(), ctx.op.attrs.new_shape.end());
  } else if (shape_in) {
    return invalid_argument("the shape input must be 1-D, got {}", shape_to_string(shape_in->shape));
  } else {
    return invalid_argument("no shape input and no new_shape option");
  }
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (unknown >= 0) return invalid_argument("new shape has more than one -1");
      unknown = static_cast<int>(i);
    } else if (dims[i] < 0) {
      return invalid_argument("new shape has a negative dim {}", dims[i]);
    } else {
      known *= dims[i];
    }
  }
  const int64_t count = in.num_elements();
  if (unknown >= 0) {
    if (known == 0 || count % known != 0)
      return invalid_argument("cannot infer the -1 dim: {} elements into {}", count, known);
    dims[unknown] = count / known;
  }
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(dims, "new shape"));
  if (num_elements(out_shape) != count)
    return invalid_argument("cannot reshape {} ({} elements) to {}", shape_to_string(in.shape),
                            count, shape_to_string(out_shape));
  ctx.outputs[0]->shape = out_shape;
  return ok_status();
}

}  // namespace

const Kernel kReshape = {"reference", prepare, copy_input_eval};

}  // namespace qdet::rt::ref
