// IEEE 754 binary16 <-> binary32, round to nearest even, with subnormals, inf and NaN.
#pragma once

#include <cstdint>

namespace qdet {

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);

}  // namespace qdet
