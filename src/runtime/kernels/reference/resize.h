// Shared checks of RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: 4-D NHWC input, a constant
// int32 size [new_h, new_w]; align_corners and half_pixel_centers as in the options.
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct ResizeData : OpData {
  int32_t batches, in_h, in_w, channels, out_h, out_w;
  bool align_corners, half_pixel_centers;
  // Precomputed source rows/columns (nearest) so eval does no float math per pixel.
  std::vector<int32_t> src_y, src_x;
};

Result<std::unique_ptr<ResizeData>> prepare_resize(PrepareContext& ctx);

}  // namespace qdet::rt::ref
