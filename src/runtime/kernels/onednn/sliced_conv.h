// A convolution cut into one oneDNN primitive per slice of the output, so that the interpreter's
// pthreadpool threads run the slices and oneDNN's own OpenMP team is never started (libgomp's
// spinning workers beside pthreadpool's ran 2 threads on 2 cores 24x slower than one). A slice
// is output rows [r0, r1) of a batch of one, or whole images of a batch; it reads only the input
// rows it needs, with its own top and bottom padding. Shared by the int8 and float kernels.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "runtime/kernel.h"

namespace qdet::rt::onednn {

dnnl::engine& cpu_engine();

struct ConvGeometry {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, groups, group_in, k_h, k_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;  // bottom, right: derived
  dnnl::memory::data_type src, weights, dst;
};

struct ConvSlice {
  dnnl::convolution_forward conv;
  dnnl::memory::desc src_md, dst_md;
  int64_t src_offset = 0;   // elements into the input
  int64_t pixel_begin = 0;  // first output pixel (n x h x w order)
  int64_t pixels = 0;
  int weights = 0;          // index into SlicedConv::weights
};

struct SlicedConv {
  std::vector<ConvSlice> slices;
  std::vector<dnnl::memory> weights;  // reordered once, one per layout the slices chose
  std::vector<dnnl::memory::desc> weight_mds;
  std::string impl;                   // the first slice's oneDNN implementation
};

// The geometry of `g` reading the unpadded [N, H, W, C] input of a PAD instead of its padded
// output (Kernel::fold_input_pad): `pad` added to the leading padding, the trailing padding
// following from the output size as build_sliced_conv derives it. nullopt when `unpadded` plus
// `pad` is not g's input, or when the first output rows would read no input row.
std::optional<ConvGeometry> geometry_with_input_pad(const ConvGeometry& g, const Shape& unpadded,
                                                    const SpatialPad& pad);

// Builds `parts` slices (at most one per output row, or per image of a batch). `user_weights`
// are OHWI (groups == 1) or GOHWI, of g.weights' type; `attr` carries zero points and post-ops.
// `accept(impl)` may refuse an implementation: kUnsupported, "oneDNN would run '<impl>', not
// <wanted>". oneDNN errors are kUnsupported too: the next kernel family runs the op.
struct ImplRule {
  bool (*accept)(const char* impl);
  const char* wanted;  // e.g. "a VNNI/AMX kernel"
};
Status build_sliced_conv(SlicedConv& out, const ConvGeometry& g, int64_t parts, const void* user_weights,
                         bool with_bias, const dnnl::primitive_attr& attr, ImplRule rule, const std::string& where);

// Runs slice k: src and dst point at the whole tensors; `extra` adds arguments (bias, zero
// points). Returns oneDNN's error text, empty when it ran.
std::string run_slice(const SlicedConv& conv, size_t k, const uint8_t* src, size_t src_element_bytes, void* dst,
                      size_t dst_element_bytes, const std::unordered_map<int, dnnl::memory>& extra);

}  // namespace qdet::rt::onednn
