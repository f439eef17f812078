// A detect sidecar (MODEL.qdet.json) on arbitrary bytes, over each built-in preset.
#include <string_view>

#include "detect/preset.h"
#include "fuzz_target.h"

QDET_FUZZ_TARGET(sidecar) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"yolox_nano", "ssd_mobilenet_v1", "yolov5n"}) {
    auto base = qdet::detect::find_preset(name);
    QDET_FUZZ_CHECK(base.ok());
    (void)qdet::detect::apply_sidecar(*base, text, "fuzz.qdet.json");
  }
  return 0;
}
