// Running a model at another input shape, as the CLI asks for it: `--input-shape 1,320,320,3`
// (the whole shape), `--input-size 320` or `--input-size 320x256` (width x height of an image
// input), `--batch N` (dim 0: images per invoke). The interpreter does the work
// (Interpreter::resize_input + allocate_tensors); this only turns a request into a shape.
#pragma once

#include <string_view>

#include "base/status.h"
#include "runtime/interpreter.h"
#include "tensor/shape.h"

namespace qdet::rt {

struct InputShapeRequest {
  Shape shape;                // the whole shape of input 0; empty: the model's
  int width = 0, height = 0;  // an image input's W and H; 0: keep
  int batch = 0;              // dim 0; 0: keep

  bool empty() const { return shape.empty() && width == 0 && height == 0 && batch == 0; }
};

// "320" (square) or "320x256" (width x height), each 1..65536.
Result<InputShapeRequest> parse_input_size(std::string_view text);

// The shape input 0 gets: `model_shape` (or the request's whole shape), then W and H set where
// an image input keeps them ([N,H,W,C] when C is 1, 3 or 4, else [N,C,H,W] when C is), then
// dim 0 set to the batch. Errors say which request does not fit which shape.
Result<Shape> resolve_input_shape(const InputShapeRequest& request, const Shape& model_shape);

// Resizes input 0 as requested and plans again; nothing when the request is empty. Errors from
// the plan name the op that cannot take the shape (Interpreter::allocate_tensors).
Status apply_input_shape(Interpreter& interpreter, const InputShapeRequest& request);

}  // namespace qdet::rt
