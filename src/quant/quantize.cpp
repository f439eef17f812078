#include "quant/quantize.h"

#include <fmt/format.h>

#include <span>

#include "graph/op_traits.h"
#include "image/codec.h"
#include "graph/stats.h"
#include "quant/fallback.h"
#include "quant/gptq.h"
#include "quant/graph_edit.h"
#include "runtime/detection_postprocess_params.h"
#include "runtime/interpreter.h"
#include "tflite/reader.h"


namespace qdet::quant {

namespace fs = std::filesystem;

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

// The weights (and biases) of the weighted ops an integer model kept float become float16 +
// DEQUANTIZE; r.tensor_map follows the renumbering.
Status float_weights_to_fp16(IntegerResult& r, Notes& notes) {
  const graph::Graph& g = r.model.graph;
  std::set<int32_t> others;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto& op = g.ops[i];
    const bool weighted = graph::op_traits(op.kind).weighted();
    const bool float_weights = op.inputs.size() > 1 && op.inputs[1] >= 0 &&
                               g.tensors[op.inputs[1]].is_constant() &&
                               g.tensors[op.inputs[1]].dtype == DType::kFloat32;
    if (!weighted || !float_weights) others.insert(static_cast<int32_t>(i));
  }
  if (others.size() == g.ops.size()) return ok_status();
  Notes n;
  std::vector<int32_t> id_map;
  QDET_ASSIGN_OR_RETURN(r.model, to_fp16(r.model, others, &n, &id_map));
  for (int32_t& t : r.tensor_map)
    if (t >= 0) t = id_map[t];
  for (auto& line : n.info) notes.info.push_back("layers kept float: " + line);
  return ok_status();
}

// Compaction (modes.h): both lossless passes; `tensor_map` (may be null) is renumbered with the
// model's tensors.
Status compact(graph::Model& model, Notes& notes, std::vector<int32_t>* tensor_map) {
  std::vector<int32_t> a, b;
  QDET_TRY(scatter_nd_to_pad(model, &notes, &a));
  QDET_TRY(exact_fp16_constants(model, &notes, 64, &b));
  if (tensor_map)
    for (int32_t& t : *tensor_map)
      if (t >= 0) t = a[t] >= 0 ? b[a[t]] : -1;
  return ok_status();
}

// Input tensors of the first calibration images, each built once: the calibration pass offers
// the ones it builds, and GPTQ and the float fallback take as many as they need (building any
// not made yet).
class CalibrationSamples {
 public:
  CalibrationSamples(const std::vector<fs::path>& images, const std::optional<image::TensorFormat>& format,
                     size_t keep)
      : images_(images), format_(format), keep_(keep) {}
  const std::vector<fs::path>& images() const { return images_; }
  const std::optional<image::TensorFormat>& format() const { return format_; }
  bool empty() const { return images_.empty() || !format_; }
  // The calibration pass's tensor of image i; kept when it is the next one and among the first
  // `keep`.
  void offer(size_t i, const std::vector<uint8_t>& tensor) {
    if (i == made_.size() && i < keep_) made_.push_back(tensor);
  }
  // The first n tensors (fewer when there are fewer images); valid until the next call.
  Result<std::span<const std::vector<uint8_t>>> first(int n) {
    const size_t want = std::min(images_.size(), static_cast<size_t>(std::max(n, 0)));
    if (made_.size() < want) {
      QDET_ASSIGN_OR_RETURN(auto builder, image::TensorBuilder::create(*format_));
      while (made_.size() < want) {
        const fs::path& path = images_[made_.size()];
        QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(path));
        std::vector<uint8_t> tensor(format_->byte_size());
        QDET_TRY(builder.build(img, tensor).status().with_context(path.string()));
        made_.push_back(std::move(tensor));
      }
    }
    return std::span<const std::vector<uint8_t>>(made_.data(), want);
  }

 private:
  std::vector<fs::path> images_;
  std::optional<image::TensorFormat> format_;
  size_t keep_;
  std::vector<std::vector<uint8_t>> made_;
};

// Keeps a unit float: its ops join io.float_ops and out.float_ops (with `why`), its name
// `chosen` (what the calibration table records).
void keep_unit(const FallbackUnit& u, const std::string& why, IntegerOptions& io, QuantizeOutcome& out,
               std::vector<std::string>& chosen) {
  io.float_ops.insert(u.ops.begin(), u.ops.end());
  for (int32_t op : u.ops) out.float_ops.push_back({op, why});
  chosen.push_back(u.name);
}

// --max-map-drop: units go back to float one at a time in sensitivity order until the AP drop
// is within the budget or the trials run out; the best trial's float ops are kept.
Status accuracy_search(const QuantizeOptions& o, const graph::Model& fmodel, const RangeMap& ranges,
                       OutputProbe& probe, IntegerOptions& io, QuantizeOutcome& out,
                       std::vector<std::string>& chosen) {
  double base_db = 0;
  QDET_ASSIGN_OR_RETURN(auto ranked, rank_units(fmodel, ranges, io, probe, &base_db, o.progress));
  QDET_ASSIGN_OR_RETURN(out.float_score, o.evaluate(fmodel));
  const std::set<int32_t> before = io.float_ops;
  double best = -1;
  size_t best_units = 0;
  for (size_t units = 0; units <= ranked.size() && out.trials.size() < static_cast<size_t>(o.max_trials); ++units) {
    io.float_ops = before;
    for (size_t i = 0; i < units; ++i) io.float_ops.insert(ranked[i].ops.begin(), ranked[i].ops.end());
    Notes quiet;
    QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(fmodel, ranges, io, &quiet));
    QDET_ASSIGN_OR_RETURN(double ap, o.evaluate(r.model));
    out.trials.emplace_back(static_cast<int>(units), ap);
    if (o.progress) o.progress("accuracy search", out.trials.size(), static_cast<size_t>(o.max_trials));
    if (ap > best) {
      best = ap;
      best_units = units;
    }
    if (out.float_score - ap <= o.max_map_drop) {
      out.budget_met = true;
      break;
    }
  }
  if (o.progress && out.trials.size() < static_cast<size_t>(o.max_trials))
    o.progress("accuracy search", out.trials.size(), out.trials.size());  // ends the line
  io.float_ops = before;
  for (size_t i = 0; i < best_units; ++i)
    keep_unit(ranked[i], fmt::format("accuracy search: layer {} of {} in sensitivity order ({:+.2f} dB alone)",
                                     i + 1, best_units, ranked[i].gain_db), io, out, chosen);
  if (!out.budget_met)
    out.notes.warnings.push_back(fmt::format(
        "accuracy budget not met: float model {:.2f} AP, best quantized {:.2f} (drop {:.2f} > {:.2f}) "
        "after {} trials; keeping the best", out.float_score, best, out.float_score - best,
        o.max_map_drop, out.trials.size()));
  return ok_status();
}

// Float fallback (fallback.h): the table's list, head inputs, the front fallback and the
// accuracy search add units to io.float_ops and out.float_ops. `from_table`: the layers a
// calibration table says to keep float (then nothing else is decided without labels). The
// layers kept float end up in `chosen` (by name).
Status apply_fallback(const QuantizeOptions& o, const graph::Model& fmodel, const RangeMap& ranges,
                      CalibrationSamples& calibration,
                      const std::optional<std::vector<std::string>>& from_table, IntegerOptions& io,
                      QuantizeOutcome& out, std::vector<std::string>& chosen) {
  if (from_table) {
    std::set<std::string> wanted(from_table->begin(), from_table->end());
    for (const auto& u : fallback_units(fmodel.graph, io.float_ops))
      if (wanted.erase(u.name)) keep_unit(u, "fallback listed in the calibration table", io, out, chosen);
    if (!wanted.empty())
      return invalid_argument("calibration table: \"fallback\" names {} layer(s) this model does not "
                              "have as a quantizable weighted op, e.g. '{}'", wanted.size(), *wanted.begin());
  }
  if (o.float_head_inputs && io.activations == DType::kInt8 && !from_table) {
    const auto units = head_input_units(fmodel.graph, io.float_ops);
    for (const auto& u : units) keep_unit(u, "makes the input of a float head convolution", io, out, chosen);
    if (!units.empty())
      out.notes.info.push_back(fmt::format("{} layers making the input of float head convolutions stay float",
                                           units.size()));
  }
  const bool front = o.fallback_macs > 0 && io.activations == DType::kInt8 && !from_table;
  const bool accuracy = static_cast<bool>(o.evaluate);
  if (!front && !accuracy) return ok_status();
  if (calibration.empty()) {
    if (accuracy) return invalid_argument("--max-map-drop needs calibration images (--calib DIR)");
    out.notes.info.push_back("front fallback skipped: no calibration images (--table alone)");
    return ok_status();
  }
  QDET_ASSIGN_OR_RETURN(auto samples, calibration.first(o.fallback_images));
  auto made = OutputProbe::create(fmodel, {samples.begin(), samples.end()}, o.num_threads);
  if (!made.ok()) {
    if (accuracy) return made.status().with_context("--max-map-drop");
    out.notes.warnings.push_back("front fallback skipped: " + made.status().message());
    return ok_status();
  }
  auto probe = std::move(*made);
  auto score = [&](const IntegerOptions& opts) -> Result<double> {
    IntegerOptions probe_io = opts;
    probe_io.io = IoType::kFloat;
    Notes quiet;
    QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(fmodel, ranges, probe_io, &quiet));
    return probe->score_db(r.model, r.tensor_map);
  };
  QDET_ASSIGN_OR_RETURN(out.probe_base_db, score(io));

  if (front) {
    // The first layers in float, as many as score best within the MACs budget: the longest
    // prefix within kFrontTolerance of the best score (more float layers are preferred over a
    // better score that is within the probe's noise).
    constexpr double kFrontTolerance = 0.5;
    const auto units = fallback_units(fmodel.graph, io.float_ops);
    const auto total = graph::compute_stats(fmodel.graph).total_macs;
    const auto budget = static_cast<int64_t>(o.fallback_macs * static_cast<double>(total));
    QDET_ASSIGN_OR_RETURN(auto scores, score_prefixes(fmodel, ranges, io, units, budget, *probe, o.progress));
    const double top = *std::max_element(scores.begin(), scores.end());
    size_t k = 0;
    for (size_t i = 0; i < scores.size(); ++i)
      if (scores[i] >= top - kFrontTolerance) k = i;
    int64_t macs = 0;
    const std::string why = fmt::format("front fallback: the first {} weighted layers", k);
    for (size_t i = 0; i < k; ++i) {
      keep_unit(units[i], why, io, out, chosen);
      macs += units[i].macs;
    }
    out.notes.info.push_back(fmt::format(
        "front fallback: the first {} weighted layers stay float ({:.1f}% of the MACs, budget {:.1f}%): "
        "outputs {:.2f} dB closer to the float model's on {} calibration images",
        k, 100.0 * static_cast<double>(macs) / static_cast<double>(std::max<int64_t>(total, 1)),
        100.0 * o.fallback_macs, scores[k] - scores[0], probe->samples()));
  }
  if (accuracy) QDET_TRY(accuracy_search(o, fmodel, ranges, *probe, io, out, chosen));
  QDET_ASSIGN_OR_RETURN(out.probe_final_db, score(io));
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// The stages of quantize_file, in order (docs/ARCHITECTURE.md, "Quantizer").
// ---------------------------------------------------------------------------------------------

// float mode: the source rewritten as float32 (integer I/O kept or made float).
Result<QuantizeOutcome> float_stage(const graph::Model& original, const QuantizeOptions& o) {
  if (o.io != "float" && o.io != "keep")
    return invalid_argument("--io {} does not apply to float mode (float or keep)", o.io);
  QuantizeOutcome out;
  FloatOptions fo;
  fo.keep_integer_io = o.io == "keep";
  QDET_ASSIGN_OR_RETURN(out.model, dequantize_model(original, fo, &out.notes));
  QDET_TRY(check_runs_in_qdet(out.model));
  return out;
}

// Every other mode starts from float32 (float16 weights and integer models are expanded);
// integer I/O of the source model is kept.
Result<graph::Model> float32_stage(const graph::Model& original, QuantizeOutcome& out) {
  Notes pre;
  QDET_ASSIGN_OR_RETURN(graph::Model fmodel, dequantize_model(original, {}, &pre));
  out.float_graph = fmodel.graph;
  const bool changed = fmodel.graph.ops.size() != original.graph.ops.size() ||
                       fmodel.graph.tensors.size() != original.graph.tensors.size();
  if (changed)
    for (auto& s : pre.info) out.notes.info.push_back("source model expanded to float32 first: " + s);
  return fmodel;
}

// fp16 and dynamic: one transform each (only the user's --keep-float names stay float), then
// compaction and the run check.
Result<QuantizeOutcome> weights_only_stage(const graph::Model& fmodel, const QuantizeOptions& o,
                                           QuantizeOutcome out) {
  std::set<int32_t> user_float;
  if (!o.head.keep_float.empty()) {
    HeadAwareOptions h = o.head;
    h.enabled = false;
    QDET_ASSIGN_OR_RETURN(out.float_ops, choose_float_ops(fmodel.graph, nullptr, h));
    for (const auto& d : out.float_ops) user_float.insert(d.op);
  }
  if (o.mode == Mode::kFp16) {
    QDET_ASSIGN_OR_RETURN(out.model, to_fp16(fmodel, user_float, &out.notes));
    if (o.compact) QDET_TRY(compact(out.model, out.notes, nullptr));
    QDET_TRY(check_runs_in_qdet(out.model));
    return out;
  }
  DynamicOptions d;
  d.float_ops = user_float;
  d.hybrid = o.hybrid;
  QDET_ASSIGN_OR_RETURN(out.model, to_dynamic(fmodel, d, &out.notes));
  if (o.compact) QDET_TRY(compact(out.model, out.notes, nullptr));
  if (Status s = check_runs_in_qdet(out.model); !s.ok()) {
    // No hybrid kernel in qdet's runtime for some op: write int8 weights with DEQUANTIZE.
    out.notes.warnings.push_back(fmt::format(
        "dynamic: qdet's runtime has no hybrid kernel ({}); weights are int8 with DEQUANTIZE "
        "to float32 instead (same size, float arithmetic)", s.message()));
    d.hybrid = false;
    Notes n2;
    QDET_ASSIGN_OR_RETURN(out.model, to_dynamic(fmodel, d, &n2));
    if (o.compact) QDET_TRY(compact(out.model, n2, nullptr));
    out.notes.info = n2.info;
    QDET_TRY(check_runs_in_qdet(out.model));
  }
  return out;
}

// What calibration hands to the later stages.
struct Calibration {
  CalibrationTable table;
  RangeMap ranges;
  ChannelMeans means;               // int8 bias correction
  CalibrationSamples samples;       // input tensors for GPTQ and the fallback probe
};

// Tensors whose every calibration value is inf or NaN have no range: the float model overflows
// (weights far too large: a random weights file, a broken export). One error naming them,
// instead of a missing range later in the rewrite.
Status check_finite_activations(const StatisticsCollector& collector) {
  std::vector<std::string> names;
  for (const auto& [key, h] : collector.histograms())
    if (h.count() == 0 && h.nonfinite() > 0) names.push_back(key);
  if (names.empty()) return ok_status();
  std::string list;
  for (size_t k = 0; k < names.size() && k < 3; ++k) list += (k ? ", " : "") + ("'" + names[k] + "'");
  if (names.size() > 3) list += fmt::format(" and {} more", names.size() - 3);
  return invalid_argument(
      "the float model's values are all inf or NaN on the calibration images in {} tensor(s) ({}): its "
      "activations overflow float32, so they have no integer range (the float modes still apply)",
      names.size(), list);
}

// int8 / int16x8: activation ranges from a table or from the calibration images (the model's
// own preprocessing); keeps the first input tensors for the stages after it.
Result<Calibration> calibrate_stage(const fs::path& model_path, const graph::Model& original,
                                    const graph::Model& fmodel, const QuantizeOptions& o, DType act,
                                    QuantizeOutcome& out) {
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
  Calibration c{{}, {}, {}, CalibrationSamples(images, float_format,
                                               static_cast<size_t>(std::max(o.gptq ? o.gptq_images : 0,
                                                                            o.fallback_images)))};
  if (!o.table.empty()) {
    QDET_ASSIGN_OR_RETURN(c.table, load_table(o.table));
  } else {
    QDET_ASSIGN_OR_RETURN(auto collector, StatisticsCollector::create(fmodel, o.num_threads));
    QDET_ASSIGN_OR_RETURN(auto builder, image::TensorBuilder::create(*float_format));
    std::vector<uint8_t> buffer(float_format->byte_size());
    for (size_t i = 0; i < images.size(); ++i) {
      QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(images[i]));
      QDET_TRY(builder.build(img, buffer).status().with_context(images[i].string()));
      QDET_TRY(collector->add_sample(buffer).with_context(images[i].string()));
      c.samples.offer(i, buffer);
      if (o.progress) o.progress("calibrating", i + 1, images.size());
    }
    QDET_TRY(check_finite_activations(*collector));
    c.table = collector->table(observer, model_path.filename().string());
    out.table = c.table;
    if (o.bias_correction && act == DType::kInt8) c.means = collector->channel_means();
  }
  c.ranges = ranges_of(c.table);
  return c;
}

// The ops that stay float by the head-aware rules, and the rewrite's options.
Result<IntegerOptions> float_regions_stage(const graph::Model& fmodel, Calibration& c,
                                           const QuantizeOptions& o, DType act, QuantizeOutcome& out) {
  HeadAwareOptions head = o.head;
  if (act == DType::kInt8)
    for (const auto& [key, e] : c.table.tensors)
      if (e.channel_spread > 0) head.channel_spreads[key] = e.channel_spread;
  QDET_ASSIGN_OR_RETURN(out.float_ops, choose_float_ops(fmodel.graph, &c.ranges, head));
  IntegerOptions io;
  io.activations = act;
  QDET_ASSIGN_OR_RETURN(io.io, parse_io_type(o.io));
  io.per_channel = !o.per_tensor;
  io.mse_weight_scales = o.mse_weight_scales;
  io.input_means = std::move(c.means);
  for (const auto& d : out.float_ops) io.float_ops.insert(d.op);
  return io;
}

// Weight rounding: GPTQ on calibration images when asked (a table decides for itself).
Status round_weights_stage(const graph::Model& fmodel, Calibration& c, const QuantizeOptions& o,
                           IntegerOptions& io, QuantizeOutcome& out) {
  const std::optional<int> gptq_images = o.table.empty() ? (o.gptq ? std::optional<int>(o.gptq_images) : std::nullopt)
                                                         : c.table.gptq_images;
  if (!gptq_images) return ok_status();
  if (c.samples.empty()) {
    out.notes.warnings.push_back(fmt::format(
        "the table's weights were rounded by GPTQ on {} calibration images; without --calib they are "
        "rounded to nearest (a different model)", *gptq_images));
    return ok_status();
  }
  QDET_ASSIGN_OR_RETURN(auto gptq_samples, c.samples.first(*gptq_images));
  GptqOptions go;
  go.per_channel = io.per_channel;
  go.mse_scales = io.mse_weight_scales;
  QDET_ASSIGN_OR_RETURN(GptqResult gr, gptq_round_weights(fmodel, gptq_samples, io.float_ops, go, o.progress));
  io.rounded_weights = std::move(gr.weights);
  if (out.table) out.table->gptq_images = static_cast<int>(gptq_samples.size());
  out.notes.info.push_back(fmt::format(
      "GPTQ weight rounding: {} layers on {} calibration images, their output error {:.2f}x lower than "
      "rounding to nearest", gr.layers, gptq_samples.size(),
      gr.error_gptq > 0 ? gr.error_nearest / gr.error_gptq : 1.0));
  if (gr.over_budget > 0)
    out.notes.warnings.push_back(fmt::format(
        "GPTQ: {} layers with the largest inputs keep nearest rounding (their statistics would pass "
        "{} MiB)", gr.over_budget, go.max_bytes >> 20));
  return ok_status();
}

// The integer rewrite, then float16 weights for the float layers, compaction and the run check.
Result<IntegerResult> rewrite_stage(const graph::Model& fmodel, const Calibration& c, const IntegerOptions& io,
                                    const QuantizeOptions& o, QuantizeOutcome& out) {
  QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(fmodel, c.ranges, io, &out.notes));
  // Ops the rewrite itself kept float (no integer kernel) join the list with their reason.
  for (int32_t op : r.float_ops)
    if (!io.float_ops.count(op)) out.float_ops.push_back({op, "no integer kernel for this op"});
  std::sort(out.float_ops.begin(), out.float_ops.end(),
            [](const FloatDecision& a, const FloatDecision& b) { return a.op < b.op; });
  if (o.fp16_float_weights) QDET_TRY(float_weights_to_fp16(r, out.notes));
  if (o.compact) QDET_TRY(compact(r.model, out.notes, &r.tensor_map));
  if (Status s = check_runs_in_qdet(r.model); !s.ok()) {
    return s.with_context(fmt::format("{} model does not run in qdet", mode_name(o.mode)));
  }
  return r;
}

// --report: the per-tensor error between the float and the quantized model.
Status report_stage(const fs::path& model_path, const graph::Model& original, const graph::Model& fmodel,
                    const Calibration& c, const IntegerResult& r, const QuantizeOptions& o,
                    QuantizeOutcome& out) {
  if (c.samples.images().empty()) return invalid_argument("--report needs calibration images (--calib DIR)");
  auto report_images = first(c.samples.images(), o.report_count);
  QDET_ASSIGN_OR_RETURN(detect::Preset preset, resolve_preset(model_path, original.graph, o.preset));
  QDET_ASSIGN_OR_RETURN(auto qformat, input_format(preset, out.model.graph));
  QDET_ASSIGN_OR_RETURN(out.errors, compare_models(fmodel, out.model, r.tensor_map, report_images,
                                                   *c.samples.format(), qformat, o.num_threads));
  out.report_images = static_cast<int>(report_images.size());
  return ok_status();
}

}  // namespace

Result<QuantizeOutcome> quantize_file(const fs::path& model_path, const QuantizeOptions& o) {
  QDET_ASSIGN_OR_RETURN(graph::Model original, tflite::load_tflite(model_path));
  QDET_TRY(declare_postprocess_shapes(original.graph).with_context(model_path.string()));
  if (o.mode == Mode::kFloat) return float_stage(original, o);
  const ModeInfo& mode = mode_info(o.mode);
  if (!mode.needs_calibration && o.io != "float")
    return invalid_argument("--io {} applies to int8 and int16x8 modes only", o.io);
  QuantizeOutcome out;
  QDET_ASSIGN_OR_RETURN(graph::Model fmodel, float32_stage(original, out));
  if (!mode.needs_calibration) return weights_only_stage(fmodel, o, std::move(out));

  QDET_ASSIGN_OR_RETURN(Calibration calibration,
                        calibrate_stage(model_path, original, fmodel, o, mode.activations, out));
  QDET_ASSIGN_OR_RETURN(IntegerOptions io, float_regions_stage(fmodel, calibration, o, mode.activations, out));
  QDET_TRY(round_weights_stage(fmodel, calibration, o, io, out));
  std::vector<std::string> fallback;
  QDET_TRY(apply_fallback(o, fmodel, calibration.ranges, calibration.samples,
                          o.table.empty() ? std::nullopt : calibration.table.fallback, io, out, fallback));
  if (out.table && mode.activations == DType::kInt8) out.table->fallback = fallback;
  QDET_ASSIGN_OR_RETURN(IntegerResult r, rewrite_stage(fmodel, calibration, io, o, out));
  out.model = std::move(r.model);
  if (o.report) QDET_TRY(report_stage(model_path, original, fmodel, calibration, r, o, out));
  return out;
}

}  // namespace qdet::quant
