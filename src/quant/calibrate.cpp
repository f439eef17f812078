#include "quant/calibrate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "base/json_text.h"
#include "base/file.h"
#include "graph/op_traits.h"
#include "image/codec.h"
#include "detect/resolve_preset.h"
#include "quant/graph_edit.h"

namespace qdet::quant {

namespace fs = std::filesystem;

Result<detect::Preset> resolve_preset(const fs::path& model_path, const graph::Graph& graph,
                                      const std::string& preset_name) {
  QDET_ASSIGN_OR_RETURN(detect::ResolvedPreset r, detect::resolve_preset(model_path, graph, preset_name));
  return std::move(r.preset);
}

Result<image::TensorFormat> input_format(const detect::Preset& preset, const graph::Graph& graph) {
  if (graph.inputs.size() != 1)
    return unsupported("calibration needs a model with one input, this one has {}", graph.inputs.size());
  const graph::Tensor& in = graph.tensors[graph.inputs[0]];
  image::TensorFormat f = preset.tensor_format();
  f.dtype = in.dtype;
  if (in.dtype != DType::kFloat32 && in.dtype != DType::kUInt8 && in.dtype != DType::kInt8)
    return unsupported("input '{}' is {}: images can fill float32, uint8 or int8 inputs", in.name,
                       dtype_name(in.dtype));
  if (!in.quant.empty()) {
    f.quant_scale = in.quant.scale[0];
    f.quant_zero_point = static_cast<int32_t>(in.quant.zero_point[0]);
  }
  if (in.shape.size() == 4) {
    const bool nchw = f.layout == image::Layout::kNchw;
    f.height = in.shape[nchw ? 2 : 1];
    f.width = in.shape[nchw ? 3 : 2];
  }
  if (f.byte_size() != in.byte_size())
    return invalid_argument("preset '{}' builds {} bytes but input '{}' {} {} takes {}", preset.name,
                            f.byte_size(), in.name, shape_to_string(in.shape), dtype_name(in.dtype),
                            in.byte_size());
  return f;
}

Result<std::vector<fs::path>> list_images(const fs::path& dir, int count) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return not_found("calibration folder {} does not exist or is not a folder", dir.string());
  std::vector<fs::path> images;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return io_error("cannot read calibration folder {}: {}", dir.string(), ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return io_error("cannot read calibration folder {}: {}", dir.string(), ec.message());
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") images.push_back(it->path());
  }
  if (images.empty())
    return invalid_argument("calibration folder {} holds no .jpg/.jpeg/.png image", dir.string());
  std::sort(images.begin(), images.end());
  if (count > 0 && static_cast<size_t>(count) < images.size()) images.resize(count);
  return images;
}

std::map<std::string, Transfer> reader_transfers(const graph::Graph& g) {
  using graph::OpKind;
  std::map<std::string, Transfer> out;
  const auto keys = tensor_keys(g);
  const auto readers = g.consumers();
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const auto& r = readers[t];
    if (r.empty() || g.tensors[t].dtype != DType::kFloat32) continue;
    bool outputs = false;
    for (int32_t o : g.outputs) outputs = outputs || o == static_cast<int32_t>(t);
    if (outputs) continue;
    int32_t logistic_out = -1;
    int logistics = 0, muls = 0, others = 0;
    for (int32_t op : r) {
      const auto& o = g.ops[op];
      if (o.kind == OpKind::kLogistic) ++logistics, logistic_out = o.outputs[0];
      else if (o.kind == OpKind::kMul) ++muls;
      else ++others;
    }
    if (others > 0) continue;
    if (muls == 0 && logistics > 0) {
      out[keys[t]] = Transfer::kSigmoid;
    } else if (logistics == 1 && muls == 1) {
      for (int32_t op : r) {
        const auto& o = g.ops[op];
        if (o.kind == OpKind::kMul && o.inputs.size() == 2 &&
            ((o.inputs[0] == static_cast<int32_t>(t) && o.inputs[1] == logistic_out) ||
             (o.inputs[1] == static_cast<int32_t>(t) && o.inputs[0] == logistic_out)) &&
            o.attrs.activation == graph::Activation::kNone)
          out[keys[t]] = Transfer::kSilu;
      }
    }
  }
  return out;
}

double channel_spread(const std::vector<Range>& channels) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  std::vector<float> spans;
  for (const Range& c : channels) {
    if (!(c.max >= c.min)) continue;  // never seen
    lo = std::min(lo, c.min);
    hi = std::max(hi, c.max);
    if (c.max > c.min) spans.push_back(c.max - c.min);
  }
  if (spans.empty() || !(hi > lo)) return 0;
  std::sort(spans.begin(), spans.end());
  return static_cast<double>(hi - lo) / spans[spans.size() / 10];
}

Result<std::unique_ptr<StatisticsCollector>> StatisticsCollector::create(const graph::Model& model,
                                                                         int num_threads) {
  std::unique_ptr<StatisticsCollector> c(new StatisticsCollector());
  c->graph_ = std::make_shared<const graph::Graph>(model.graph);
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  o.exact_float = true;  // what TFLite's converter computes: XNNPACK's float bytes on every CPU
  o.num_threads = num_threads;
  QDET_ASSIGN_OR_RETURN(c->interp_, rt::Interpreter::create(c->graph_, o));
  if (c->interp_->num_inputs() != 1)
    return unsupported("calibration needs a model with one input, this one has {}",
                       c->interp_->num_inputs());
  c->transfers_ = reader_transfers(*c->graph_);
  const auto keys = tensor_keys(*c->graph_);
  for (size_t t = 0; t < c->graph_->tensors.size(); ++t) {
    const auto& tensor = c->graph_->tensors[t];
    if (tensor.dtype == DType::kFloat32 && !tensor.is_constant())
      c->observed_.emplace_back(static_cast<int32_t>(t), keys[t]);
  }
  std::set<int32_t> per_channel;
  for (const auto& op : c->graph_->ops)
    if (op.kind == graph::OpKind::kDepthwiseConv2d && !op.inputs.empty() && op.inputs[0] >= 0) {
      const auto& tensor = c->graph_->tensors[op.inputs[0]];
      if (tensor.dtype == DType::kFloat32 && !tensor.is_constant() && !tensor.shape.empty() &&
          tensor.shape.back() > 1)
        per_channel.insert(op.inputs[0]);
    }
  for (int32_t t : per_channel) c->per_channel_.emplace_back(t, keys[t]);
  std::set<int32_t> weighted;
  for (const auto& op : c->graph_->ops)
    if (graph::op_traits(op.kind).weighted() && !op.inputs.empty() && op.inputs[0] >= 0) {
      const auto& tensor = c->graph_->tensors[op.inputs[0]];
      if (tensor.dtype == DType::kFloat32 && !tensor.is_constant() && !tensor.shape.empty())
        weighted.insert(op.inputs[0]);
    }
  for (int32_t t : weighted) c->mean_inputs_.emplace_back(t, keys[t]);
  return c;
}

Status StatisticsCollector::add_sample(std::span<const uint8_t> input) {
  rt::TensorRef& in = interp_->input(0);
  if (input.size() != in.byte_size())
    return invalid_argument("calibration input has {} bytes, the model takes {}", input.size(),
                            in.byte_size());
  std::memcpy(in.data, input.data(), input.size());
  QDET_TRY(interp_->invoke());
  for (const auto& [id, key] : observed_) {
    const rt::TensorRef& t = interp_->tensor(id);
    if (!t.data) continue;
    auto [it, inserted] = histograms_.try_emplace(key);
    it->second.add(std::span<const float>(t.as<const float>(), static_cast<size_t>(t.num_elements())));
  }
  for (const auto& [id, key] : per_channel_) {
    const rt::TensorRef& t = interp_->tensor(id);
    if (!t.data || t.shape.empty() || t.shape.back() <= 0) continue;
    const auto channels = static_cast<size_t>(t.shape.back());
    auto& r = channel_ranges_[key];
    if (r.size() != channels)
      r.assign(channels, Range{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()});
    const float* p = t.as<const float>();
    const auto n = static_cast<size_t>(t.num_elements());
    for (size_t i = 0; i < n; ++i) {
      Range& c = r[i % channels];
      if (p[i] < c.min) c.min = p[i];
      if (p[i] > c.max) c.max = p[i];  // NaN compares false and is skipped
    }
  }
  for (const auto& [id, key] : mean_inputs_) {
    const rt::TensorRef& t = interp_->tensor(id);
    if (!t.data || t.shape.empty() || t.shape.back() <= 0) continue;
    const auto channels = static_cast<size_t>(t.shape.back());
    auto& [sums, rows] = channel_sums_[key];
    if (sums.size() != channels) sums.assign(channels, 0.0), rows = 0;
    const float* p = t.as<const float>();
    const auto n = static_cast<size_t>(t.num_elements());
    for (size_t i = 0; i < n; i += channels)
      for (size_t c = 0; c < channels; ++c) sums[c] += p[i + c];
    rows += static_cast<int64_t>(n / channels);
  }
  ++samples_;
  return ok_status();
}

ChannelMeans StatisticsCollector::channel_means() const {
  ChannelMeans out;
  for (const auto& [key, sr] : channel_sums_) {
    const auto& [sums, rows] = sr;
    if (rows <= 0) continue;
    std::vector<double> m(sums.size());
    bool finite = true;
    for (size_t c = 0; c < sums.size(); ++c) {
      m[c] = sums[c] / static_cast<double>(rows);
      finite = finite && std::isfinite(m[c]);
    }
    if (finite) out[key] = std::move(m);
  }
  return out;
}

Status StatisticsCollector::add_images(const std::vector<fs::path>& images,
                                       const image::TensorFormat& format,
                                       void (*progress)(size_t, size_t)) {
  QDET_ASSIGN_OR_RETURN(auto builder, image::TensorBuilder::create(format));
  std::vector<uint8_t> buffer(format.byte_size());
  for (size_t i = 0; i < images.size(); ++i) {
    QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(images[i]));
    QDET_TRY(builder.build(img, buffer).status().with_context(images[i].string()));
    QDET_TRY(add_sample(buffer).with_context(images[i].string()));
    if (progress) progress(i + 1, images.size());
  }
  return ok_status();
}

CalibrationTable StatisticsCollector::table(const ObserverOptions& observer,
                                            const std::string& model) const {
  CalibrationTable t;
  t.model = model;
  t.method = method_name(observer.method);
  if (observer.method == Method::kPercentile) t.method += fmt::format(" {}", observer.percentile);
  t.images = samples_;
  for (const auto& [key, h] : histograms_) {
    if (h.count() == 0) continue;
    TableEntry e;
    const auto tr = transfers_.find(key);
    e.range = observe_range(h, observer, tr == transfers_.end() ? Transfer::kIdentity : tr->second);
    e.method = t.method;
    e.observed = {h.min(), h.max()};
    e.has_observed = true;
    if (auto c = channel_ranges_.find(key); c != channel_ranges_.end())
      e.channel_spread = channel_spread(c->second);
    t.tensors[key] = e;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Accumulator {
  double signal = 0, noise = 0, dot = 0, qq = 0, max_err = 0;
  int64_t elements = 0;
};

}  // namespace

bool real_values(const rt::TensorRef& t, std::vector<float>* out) {
  const int64_t n = t.num_elements();
  out->resize(static_cast<size_t>(n));
  if (!t.data) return false;
  if (t.dtype == DType::kFloat32) {
    std::memcpy(out->data(), t.data, static_cast<size_t>(n) * 4);
    return true;
  }
  if (t.quant->empty() || t.quant->per_axis()) return false;
  const float s = t.quant->scale[0];
  const auto zp = static_cast<int32_t>(t.quant->zero_point[0]);
  for (int64_t i = 0; i < n; ++i) {
    int32_t q;
    switch (t.dtype) {
      case DType::kInt8: q = t.as<const int8_t>()[i]; break;
      case DType::kUInt8: q = t.as<const uint8_t>()[i]; break;
      case DType::kInt16: q = t.as<const int16_t>()[i]; break;
      default: return false;
    }
    (*out)[i] = s * static_cast<float>(q - zp);
  }
  return true;
}

Result<std::vector<TensorError>> compare_models(const graph::Model& float_model,
                                                const graph::Model& quantized_model,
                                                const std::vector<int32_t>& tensor_map,
                                                const std::vector<fs::path>& images,
                                                const image::TensorFormat& float_format,
                                                const image::TensorFormat& quantized_format,
                                                int num_threads) {
  auto fg = std::make_shared<const graph::Graph>(float_model.graph);
  auto qg = std::make_shared<const graph::Graph>(quantized_model.graph);
  if (tensor_map.size() != fg->tensors.size())
    return invalid_argument("tensor map has {} entries for {} tensors", tensor_map.size(), fg->tensors.size());
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  o.exact_float = true;  // what TFLite's converter computes: XNNPACK's float bytes on every CPU
  o.num_threads = num_threads;
  QDET_ASSIGN_OR_RETURN(auto fi, rt::Interpreter::create(fg, o));
  QDET_ASSIGN_OR_RETURN(auto qi, rt::Interpreter::create(qg, o));
  QDET_ASSIGN_OR_RETURN(auto fb, image::TensorBuilder::create(float_format));
  QDET_ASSIGN_OR_RETURN(auto qb, image::TensorBuilder::create(quantized_format));
  if (fi->num_inputs() != 1 || qi->num_inputs() != 1)
    return unsupported("the error report needs models with one input");
  if (fi->input(0).byte_size() != float_format.byte_size() ||
      qi->input(0).byte_size() != quantized_format.byte_size())
    return invalid_argument("input formats do not match the models' inputs");
  const auto keys = tensor_keys(*fg);
  std::vector<int32_t> compared;
  for (size_t t = 0; t < fg->tensors.size(); ++t)
    if (fg->tensors[t].dtype == DType::kFloat32 && !fg->tensors[t].is_constant() && tensor_map[t] >= 0 &&
        qg->tensors[tensor_map[t]].shape == fg->tensors[t].shape)
      compared.push_back(static_cast<int32_t>(t));
  std::vector<Accumulator> acc(fg->tensors.size());
  std::vector<float> fv, qv;
  for (const auto& path : images) {
    QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(path));
    QDET_TRY(fb.build(img, std::span<uint8_t>(fi->input(0).data, fi->input(0).byte_size())).status());
    QDET_TRY(qb.build(img, std::span<uint8_t>(qi->input(0).data, qi->input(0).byte_size())).status());
    QDET_TRY(fi->invoke().with_context("float model"));
    QDET_TRY(qi->invoke().with_context("quantized model"));
    for (int32_t t : compared) {
      if (!real_values(fi->tensor(t), &fv) || !real_values(qi->tensor(tensor_map[t]), &qv)) continue;
      Accumulator& a = acc[t];
      for (size_t i = 0; i < fv.size(); ++i) {
        const double f = fv[i], q = qv[i], d = f - q;
        a.signal += f * f;
        a.noise += d * d;
        a.dot += f * q;
        a.qq += q * q;
        a.max_err = std::max(a.max_err, std::fabs(d));
      }
      a.elements += static_cast<int64_t>(fv.size());
    }
  }
  std::vector<char> is_output(fg->tensors.size(), 0);
  for (int32_t t : fg->outputs) is_output[t] = 1;
  std::vector<TensorError> out;
  for (int32_t t : compared) {
    const Accumulator& a = acc[t];
    if (a.elements == 0) continue;
    TensorError e;
    e.name = keys[t];
    e.dtype = dtype_name(qg->tensors[tensor_map[t]].dtype);
    e.elements = a.elements;
    e.sqnr_db = a.noise > 0 ? 10.0 * std::log10(std::max(a.signal, 1e-30) / a.noise)
                            : std::numeric_limits<double>::infinity();
    e.cosine = (a.signal > 0 && a.qq > 0) ? a.dot / std::sqrt(a.signal * a.qq) : (a.noise == 0 ? 1.0 : 0.0);
    e.max_abs_error = a.max_err;
    e.is_output = is_output[t];
    out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TensorError& a, const TensorError& b) { return a.sqnr_db < b.sqnr_db; });
  return out;
}

std::string error_report_json(const std::vector<TensorError>& errors, const std::string& model,
                              const std::string& mode, int images) {
  nlohmann::json j;
  j["model"] = model;
  j["mode"] = mode;
  j["images"] = images;
  auto& ts = j["tensors"] = nlohmann::json::array();
  for (const auto& e : errors) {
    nlohmann::json t = {{"name", e.name}, {"dtype", e.dtype}, {"elements", e.elements},
                        {"cosine", e.cosine}, {"max_abs_error", e.max_abs_error},
                        {"output", e.is_output}};
    // JSON has no infinity: an exact tensor gets null SQNR.
    t["sqnr_db"] = std::isfinite(e.sqnr_db) ? nlohmann::json(e.sqnr_db) : nlohmann::json(nullptr);
    ts.push_back(std::move(t));
  }
  return json_text(j, 1) + "\n";
}

}  // namespace qdet::quant
