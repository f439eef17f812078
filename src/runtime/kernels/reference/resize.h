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

// RESIZE_NEAREST_NEIGHBOR's source row or column of output `x` (TFLite's
// reference_ops::GetNearestNeighbor): scale = in/out (or (in-1)/(out-1) with align_corners),
// source = floor((x + offset) * scale) (rounded half away from zero with align_corners), offset
// 0.5 with half_pixel_centers, clamped to [0, in-1]. The XNNPACK family's copy uses it too.
int32_t nearest_source(int32_t x, int32_t in, int32_t out, bool align_corners, bool half_pixel_centers);

}  // namespace qdet::rt::ref
