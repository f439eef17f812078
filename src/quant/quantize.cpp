#include "quant/quantize.h"

#include <fmt/format.h>

#include "image/codec.h"
#include "quant/graph_edit.h"
#include "runtime/detection_postprocess_params.h"
#include "runtime/interpreter.h"
#include "tflite/reader.h"


namespace qdet::quant {

namespace fs = std::filesystem;

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kFloat: return "float";
    case Mode::kFp16: return "fp16";
    case Mode::kDynamic: return "dynamic";
    case Mode::kInt8: return "int8";
    case Mode::kInt16x8: return "int16x8";
  }
  return "?";
}

Result<Mode> parse_mode(const std::string& name) {
  for (Mode m : {Mode::kFloat, Mode::kFp16, Mode::kDynamic, Mode::kInt8, Mode::kInt16x8})
    if (name == mode_name(m)) return m;
  return invalid_argument("unknown mode '{}' (float, fp16, dynamic, int8, int16x8)", name);
}

namespace {

// qdet's interpreter must be able to run what we write (prepare checks every op).
Status check_runs_in_qdet(const graph::Model& model) {
  auto g = std::make_shared<const graph::Graph>(model.graph);
  auto interp = rt::Interpreter::create(g);
  return interp.ok() ? ok_status() : interp.status();
}

// Files often leave the post-processing outputs' shapes empty ("unknown"; TFLite resizes them);
// qdet's interpreter checks declared shapes, so they are declared from the op's options.
Status declare_postprocess_shapes(graph::Graph& g) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto& op = g.ops[i];
    if (op.kind != graph::OpKind::kDetectionPostProcess) continue;
    bool unknown = false;
    for (int32_t t : op.outputs) unknown = unknown || (t >= 0 && g.tensors[t].shape.empty());
    if (!unknown) continue;
    QDET_ASSIGN_OR_RETURN(auto params, rt::DetectionPostProcessParams::parse(op.custom_options));
    QDET_TRY(rt::set_detection_postprocess_params(g, i, params));
  }
  return ok_status();
}

std::vector<std::filesystem::path> first(const std::vector<fs::path>& v, int n) {
  return {v.begin(), v.begin() + std::min<size_t>(v.size(), static_cast<size_t>(std::max(n, 0)))};
}

}  // namespace

Result<QuantizeOutcome> quantize_file(const fs::path& model_path, const QuantizeOptions& o) {
  QDET_ASSIGN_OR_RETURN(graph::Model original, tflite::load_tflite(model_path));
  QDET_TRY(declare_postprocess_shapes(original.graph).with_context(model_path.string()));
  QuantizeOutcome out;
  const bool integer = o.mode == Mode::kInt8 || o.mode == Mode::kInt16x8;
  if (o.mode == Mode::kFloat) {
    if (o.io != "float" && o.io != "keep")
      return invalid_argument("--io {} does not apply to float mode (float or keep)", o.io);
    FloatOptions fo;
    fo.keep_integer_io = o.io == "keep";
    QDET_ASSIGN_OR_RETURN(out.model, dequantize_model(original, fo, &out.notes));
    QDET_TRY(check_runs_in_qdet(out.model));
    return out;
  }
  // Every other mode starts from float32 (float16 weights and integer models are expanded);
  // integer I/O of the source model is kept.
  Notes pre;
  QDET_ASSIGN_OR_RETURN(graph::Model fmodel, dequantize_model(original, {}, &pre));
  out.float_graph = fmodel.graph;
  const bool changed = fmodel.graph.ops.size() != original.graph.ops.size() ||
                       fmodel.graph.tensors.size() != original.graph.tensors.size();
  if (changed)
    for (auto& s : pre.info) out.notes.info.push_back("source model expanded to float32 first: " + s);
  if (!integer && o.io != "float")
    return invalid_argument("--io {} applies to int8 and int16x8 modes only", o.io);

  // Head-aware float ops for fp16/dynamic: only the user's names matter there.
  std::set<int32_t> user_float;
  if (!integer && !o.head.keep_float.empty()) {
    HeadAwareOptions h = o.head;
    h.enabled = false;
    QDET_ASSIGN_OR_RETURN(out.float_ops, choose_float_ops(fmodel.graph, nullptr, h));
    for (const auto& d : out.float_ops) user_float.insert(d.op);
  }
  if (o.mode == Mode::kFp16) {
    QDET_ASSIGN_OR_RETURN(out.model, to_fp16(fmodel, user_float, &out.notes));
    QDET_TRY(check_runs_in_qdet(out.model));
    return out;
  }
  if (o.mode == Mode::kDynamic) {
    DynamicOptions d;
    d.float_ops = user_float;
    d.hybrid = o.hybrid;
    QDET_ASSIGN_OR_RETURN(out.model, to_dynamic(fmodel, d, &out.notes));
    if (Status s = check_runs_in_qdet(out.model); !s.ok()) {
      // No hybrid kernel in qdet's runtime for some op: write int8 weights with DEQUANTIZE.
      out.notes.warnings.push_back(fmt::format(
          "dynamic: qdet's runtime has no hybrid kernel ({}); weights are int8 with DEQUANTIZE "
          "to float32 instead (same size, float arithmetic)", s.message()));
      d.hybrid = false;
      Notes n2;
      QDET_ASSIGN_OR_RETURN(out.model, to_dynamic(fmodel, d, &n2));
      out.notes.info = n2.info;
      QDET_TRY(check_runs_in_qdet(out.model));
    }
    return out;
  }

  // int8 / int16x8: ranges from a table or from calibration.
  const DType act = o.mode == Mode::kInt16x8 ? DType::kInt16 : DType::kInt8;
  ObserverOptions observer = o.observer;
  observer.levels = act == DType::kInt16 ? 65536 : 256;
  std::vector<fs::path> images;
  std::optional<image::TensorFormat> float_format;
  if (!o.calib_dir.empty() || o.table.empty()) {
    if (o.calib_dir.empty())
      return invalid_argument("{} needs calibration images (--calib DIR) or a table (--table FILE)",
                              mode_name(o.mode));
    QDET_ASSIGN_OR_RETURN(images, list_images(o.calib_dir, o.calib_count));
    QDET_ASSIGN_OR_RETURN(detect::Preset preset, resolve_preset(model_path, original.graph, o.preset));
    QDET_ASSIGN_OR_RETURN(float_format, input_format(preset, fmodel.graph));
  }
  CalibrationTable table;
  ChannelMeans means;
  if (!o.table.empty()) {
    QDET_ASSIGN_OR_RETURN(table, load_table(o.table));
  } else {
    QDET_ASSIGN_OR_RETURN(auto collector, StatisticsCollector::create(fmodel, o.num_threads));
    QDET_ASSIGN_OR_RETURN(auto builder, image::TensorBuilder::create(*float_format));
    std::vector<uint8_t> buffer(float_format->byte_size());
    for (size_t i = 0; i < images.size(); ++i) {
      QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(images[i]));
      QDET_TRY(builder.build(img, buffer).status().with_context(images[i].string()));
      QDET_TRY(collector->add_sample(buffer).with_context(images[i].string()));
      if (o.progress) o.progress("calibrating", i + 1, images.size());
    }
    table = collector->table(observer, model_path.filename().string());
    out.table = table;
    if (o.bias_correction && act == DType::kInt8) means = collector->channel_means();
  }
  const RangeMap ranges = ranges_of(table);

  HeadAwareOptions head = o.head;
  if (act == DType::kInt8)
    for (const auto& [key, e] : table.tensors)
      if (e.channel_spread > 0) head.channel_spreads[key] = e.channel_spread;
  QDET_ASSIGN_OR_RETURN(out.float_ops, choose_float_ops(fmodel.graph, &ranges, head));
  IntegerOptions io;
  io.activations = act;
  QDET_ASSIGN_OR_RETURN(io.io, parse_io_type(o.io));
  io.per_channel = !o.per_tensor;
  io.input_means = std::move(means);
  for (const auto& d : out.float_ops) io.float_ops.insert(d.op);
  QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(fmodel, ranges, io, &out.notes));
  // Ops the rewrite itself kept float (no integer kernel) join the list with their reason.
  for (int32_t op : r.float_ops)
    if (!io.float_ops.count(op)) out.float_ops.push_back({op, "no integer kernel for this op"});
  std::sort(out.float_ops.begin(), out.float_ops.end(),
            [](const FloatDecision& a, const FloatDecision& b) { return a.op < b.op; });
  if (Status s = check_runs_in_qdet(r.model); !s.ok()) {
    return s.with_context(fmt::format("{} model does not run in qdet", mode_name(o.mode)));
  }
  out.model = std::move(r.model);

  if (o.report) {
    if (images.empty())
      return invalid_argument("--report needs calibration images (--calib DIR)");
    auto report_images = first(images, o.report_count);
    QDET_ASSIGN_OR_RETURN(detect::Preset preset, resolve_preset(model_path, original.graph, o.preset));
    QDET_ASSIGN_OR_RETURN(auto qformat, input_format(preset, out.model.graph));
    QDET_ASSIGN_OR_RETURN(out.errors, compare_models(fmodel, out.model, r.tensor_map, report_images,
                                                     *float_format, qformat, o.num_threads));
    out.report_images = static_cast<int>(report_images.size());
  }
  return out;
}

}  // namespace qdet::quant
