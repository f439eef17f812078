#include "convert/darknet/weights.h"

#include <cmath>
#include <cstring>

namespace qdet::convert::darknet {
namespace {

// darknet: 64-bit `seen` from version 0.2 on (major*10 + minor >= 2, both < 1000).
bool wide_seen(int32_t major, int32_t minor) {
  return major * 10 + minor >= 2 && major < 1000 && minor < 1000;
}

}  // namespace

size_t header_bytes(int32_t major, int32_t minor) { return 12 + (wide_seen(major, minor) ? 8 : 4); }

Result<Weights> parse_weights(std::span<const uint8_t> bytes, const Network& net, std::string_view source) {
  Weights w;
  if (bytes.size() < 16)
    return parse_error("{}: {} bytes is too short for a darknet weights header", source, bytes.size());
  std::memcpy(&w.major, bytes.data(), 4);
  std::memcpy(&w.minor, bytes.data() + 4, 4);
  std::memcpy(&w.revision, bytes.data() + 8, 4);
  if (w.major < 0 || w.minor < 0 || w.major > 1000 || w.minor > 1000)
    return parse_error("{}: version {}.{} is not a darknet weights header", source, w.major, w.minor);
  const size_t header = header_bytes(w.major, w.minor);
  if (bytes.size() < header) return parse_error("{}: truncated header", source);
  if (header == 20) {
    std::memcpy(&w.seen, bytes.data() + 12, 8);
  } else {
    uint32_t s;
    std::memcpy(&s, bytes.data() + 12, 4);
    w.seen = s;
  }
  const int64_t want_floats = net.weight_floats();
  const uint64_t want_bytes = header + static_cast<uint64_t>(want_floats) * 4;
  size_t off = header;
  auto take = [&](const Layer& l, const char* what, int64_t n, std::vector<float>* out) -> Status {
    const uint64_t need = static_cast<uint64_t>(n) * 4;
    if (off + need > bytes.size())
      return parse_error("{}: truncated: layer {} ({}, cfg line {}) needs {} {} floats at byte {} but the file has {} "
                         "bytes ({} expected for this cfg)",
                         source, l.index, layer_type_name(l.type), l.line, n, what, off, bytes.size(), want_bytes);
    out->resize(static_cast<size_t>(n));
    if (n) std::memcpy(out->data(), bytes.data() + off, need);
    off += need;
    for (float v : *out)
      if (!std::isfinite(v))
        return parse_error("{}: layer {} ({}, cfg line {}): {} holds a non-finite value", source, l.index,
                           layer_type_name(l.type), l.line, what);
    return ok_status();
  };
  w.layers.resize(net.layers.size());
  for (const Layer& l : net.layers) {
    if (l.type != LayerType::kConvolutional) continue;
    ConvWeights& cw = w.layers[l.index];
    QDET_TRY(take(l, "bias", l.filters, &cw.biases));
    if (l.batch_normalize) {
      QDET_TRY(take(l, "batch-norm scale", l.filters, &cw.scales));
      QDET_TRY(take(l, "batch-norm mean", l.filters, &cw.mean));
      QDET_TRY(take(l, "batch-norm variance", l.filters, &cw.variance));
      for (float v : cw.variance)
        if (v < 0.f)
          return parse_error("{}: layer {} (convolutional, cfg line {}): negative batch-norm variance {}", source,
                             l.index, l.line, v);
    }
    QDET_TRY(take(l, "weight", int64_t{l.filters} * (l.in_c / l.groups) * l.size * l.size, &cw.weights));
  }
  if (off != bytes.size())
    return parse_error("{}: {} bytes left after the last layer: the file has {} bytes, this cfg needs {} (wrong cfg?)",
                       source, bytes.size() - off, bytes.size(), want_bytes);
  return w;
}

}  // namespace qdet::convert::darknet
