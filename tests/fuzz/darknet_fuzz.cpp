// A darknet .cfg and its .weights on arbitrary bytes: the input is the cfg text, a NUL byte, then
// the weights file. A network that imports must verify.
#include <cstring>
#include <span>
#include <string_view>

#include "convert/darknet/cfg.h"
#include "convert/darknet/importer.h"
#include "convert/darknet/network.h"
#include "convert/darknet/weights.h"
#include "fuzz_target.h"

QDET_FUZZ_TARGET(darknet) {
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t cfg_size = nul ? static_cast<size_t>(nul - data) : size;
  std::string_view cfg(reinterpret_cast<const char*>(data), cfg_size);
  std::span<const uint8_t> weights;
  if (nul) weights = std::span<const uint8_t>(nul + 1, size - cfg_size - 1);
  auto sections = qdet::convert::darknet::parse_cfg(cfg, "fuzz.cfg");
  if (!sections.ok()) return 0;
  auto net = qdet::convert::darknet::build_network(*sections, "fuzz.cfg");
  if (!net.ok()) return 0;
  auto w = qdet::convert::darknet::parse_weights(weights, *net, "fuzz.weights");
  if (!w.ok()) return 0;
  auto imported = qdet::convert::darknet::import_network(*net, *w);
  if (imported.ok()) QDET_FUZZ_CHECK(imported->model.graph.verify().ok());
  return 0;
}
