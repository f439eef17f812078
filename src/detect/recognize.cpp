// Recognising the shipped model families from their tensors and ops (preset.h).
#include <algorithm>
#include <set>

#include "detect/preset.h"
#include "graph/graph.h"

namespace qdet::detect {
namespace {

bool has_op(const ModelSignature& s, std::string_view name) {
  return std::find(s.ops.begin(), s.ops.end(), name) != s.ops.end();
}

// [1,H,W,3] (NHWC) or [1,3,H,W] (NCHW).
struct ImageInput {
  int width = 0, height = 0;
  image::Layout layout = image::Layout::kNhwc;
};
std::optional<ImageInput> image_input(const TensorSignature& t) {
  const Shape& s = t.shape;
  if (s.size() != 4 || s[0] != 1) return std::nullopt;
  if (s[3] == 3 && s[1] > 0 && s[2] > 0) return ImageInput{s[2], s[1], image::Layout::kNhwc};
  if (s[1] == 3 && s[2] > 0 && s[3] > 0) return ImageInput{s[3], s[2], image::Layout::kNchw};
  return std::nullopt;
}

int64_t grid_cells(const ImageInput& in) {
  int64_t n = 0;
  for (int s : {8, 16, 32}) n += static_cast<int64_t>(in.width / s) * (in.height / s);
  return n;
}

// NanoDet's GFL outputs: per level (strides 8, 16, 32, ...: N = ceil(W/s) x ceil(H/s) cells) two
// [1,N,K] outputs, class scores first, box distributions (K = 4 x bins) second, in any
// interleaving of levels. The strides, or none.
std::optional<std::vector<int>> gfl_strides(const ModelSignature& s, const ImageInput& in) {
  if (s.outputs.size() < 2 || s.outputs.size() % 2 != 0) return std::nullopt;
  for (const TensorSignature& t : s.outputs)
    if (t.shape.size() != 3 || t.shape[0] != 1) return std::nullopt;
  std::vector<int> strides;
  std::vector<bool> used(s.outputs.size(), false);
  for (size_t l = 0; l < s.outputs.size() / 2; ++l) {
    const int stride = 8 << l;
    const int64_t cells = static_cast<int64_t>((in.width + stride - 1) / stride) * ((in.height + stride - 1) / stride);
    std::vector<size_t> pair;
    for (size_t i = 0; i < s.outputs.size(); ++i)
      if (!used[i] && s.outputs[i].shape[1] == cells && pair.size() < 2) pair.push_back(i);
    if (pair.size() != 2) return std::nullopt;
    const int64_t box = s.outputs[pair[1]].shape[2];
    if (box % 4 != 0 || box < 8) return std::nullopt;
    used[pair[0]] = used[pair[1]] = true;
    strides.push_back(stride);
  }
  return strides;
}

Result<Preset> sized(std::string_view name, const ImageInput& in, DType dtype) {
  QDET_ASSIGN_OR_RETURN(Preset p, find_preset(name));
  p.input_width = in.width;
  p.input_height = in.height;
  p.layout = in.layout;
  p.input_dtype = dtype;
  return p;
}

}  // namespace

ModelSignature signature_of(const graph::Graph& g) {
  ModelSignature s;
  auto sig = [&](int32_t id) {
    TensorSignature t;
    if (id >= 0 && static_cast<size_t>(id) < g.tensors.size()) {
      t.shape = g.tensors[id].shape;
      t.dtype = g.tensors[id].dtype;
    }
    return t;
  };
  for (int32_t id : g.inputs) s.inputs.push_back(sig(id));
  for (int32_t id : g.outputs) s.outputs.push_back(sig(id));
  std::set<std::string> ops;
  for (const graph::Op& op : g.ops) ops.insert(graph::op_name(op.kind));
  s.ops.assign(ops.begin(), ops.end());
  return s;
}

Result<Preset> recognize(const ModelSignature& s) {
  auto fail = [&](std::string_view why) -> Status {
    return not_found("model not recognised ({}); pass --preset NAME or write a MODEL.qdet.json sidecar", why);
  };
  if (s.inputs.size() != 1) return fail(fmt::format("{} inputs, expected 1 image", s.inputs.size()));
  const std::optional<ImageInput> in = image_input(s.inputs[0]);
  if (!in) return fail(fmt::format("input shape {} is not an image", shape_to_string(s.inputs[0].shape)));
  const DType dtype = s.inputs[0].dtype;

  if (has_op(s, "TFLite_Detection_PostProcess") && s.outputs.size() == 4) {
    // The op's output shapes are often left empty in files (TFLite computes them at run time).
    const Shape& boxes = s.outputs[0].shape;
    if (boxes.empty() || (boxes.size() == 3 && boxes[2] == 4)) return sized("ssd_mobilenet_v1", *in, dtype);
    return fail("TFLite_Detection_PostProcess outputs are not boxes/classes/scores/count");
  }
  if (std::optional<std::vector<int>> strides = gfl_strides(s, *in)) {
    QDET_ASSIGN_OR_RETURN(Preset p, sized("nanodet_m", *in, dtype));
    p.strides = *strides;
    return p;
  }
  if (s.outputs.size() == 1) {
    const Shape& o = s.outputs[0].shape;
    // FastestDet: one NHWC grid at stride 16, 5 + classes channels.
    if (o.size() == 4 && o[0] == 1 && o[3] > 5 && o[1] == (in->height + 15) / 16 && o[2] == (in->width + 15) / 16)
      return sized("fastestdet", *in, dtype);
    if (o.size() == 3 && o[0] == 1 && o[2] == 85) {
      const int64_t cells = grid_cells(*in);
      if (o[1] == cells) return sized(has_op(s, "EXP") ? "yolox_nano" : "yolox_nano_raw", *in, dtype);
      if (o[1] == 3 * cells) {
        const bool integer_input = dtype == DType::kUInt8 || dtype == DType::kInt8;
        return sized(integer_input ? "yolov5n_uint8" : "yolov5n", *in, dtype);
      }
      return fail(fmt::format("output {} matches neither YOLOX ({} rows) nor YOLOv5 ({} rows) for a {}x{} input",
                              shape_to_string(o), cells, 3 * cells, in->width, in->height));
    }
  }
  return fail(fmt::format("{} outputs of unknown layout", s.outputs.size()));
}

}  // namespace qdet::detect
