#include "runtime/kernels/onednn/sliced_conv.h"

#include <omp.h>

#include <algorithm>

namespace qdet::rt::onednn {
namespace {

using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

Status add_slice(SlicedConv& d, const ConvGeometry& g, int64_t n0, int64_t n1, int64_t r0, int64_t r1,
                 const void* user_weights, bool with_bias, const dnnl::primitive_attr& attr, ImplRule rule,
                 const std::string& where) {
  dnnl::engine& eng = cpu_engine();
  // Input rows the slice reads: from r0's first tap to (r1 - 1)'s last, clipped to the image;
  // what lies outside is this slice's padding. Whole images keep every row (they lie in_h rows
  // apart in memory).
  const int64_t first = r0 * g.stride_h - g.pad_top;
  const int64_t last = (r1 - 1) * g.stride_h - g.pad_top + (g.k_h - 1) * g.dilation_h;
  const bool whole_images = r0 == 0 && r1 == g.out_h;
  const int64_t in_begin = whole_images ? 0 : std::max<int64_t>(0, first);
  const int64_t in_end = whole_images ? g.in_h : std::min<int64_t>(g.in_h, last + 1);
  if (in_end <= in_begin) return unsupported("{}: a slice reads no input row", where);
  const int64_t pad_top = in_begin - first, pad_bottom = std::max<int64_t>(0, last + 1 - g.in_h);
  const int64_t pad_right = std::max<int64_t>(
      0, (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1 - g.in_w - g.pad_left);
  ConvSlice slice;
  slice.src_md = dnnl::memory::desc({n1 - n0, g.in_c, in_end - in_begin, g.in_w}, g.src, tag::nhwc);
  slice.dst_md = dnnl::memory::desc({n1 - n0, g.out_c, r1 - r0, g.out_w}, g.dst, tag::nhwc);
  slice.src_offset = (n0 * g.in_h + in_begin) * g.in_w * g.in_c;
  slice.pixel_begin = (n0 * g.out_h + r0) * g.out_w;
  slice.pixels = (n1 - n0) * (r1 - r0) * g.out_w;
  dnnl::memory::desc wei_any, wei_user;
  if (g.groups == 1) {
    wei_any = dnnl::memory::desc({g.out_c, g.in_c, g.k_h, g.k_w}, g.weights, tag::any);
    wei_user = dnnl::memory::desc({g.out_c, g.in_c, g.k_h, g.k_w}, g.weights, tag::ohwi);
  } else {
    const dims wd = {g.groups, g.out_c / g.groups, g.group_in, g.k_h, g.k_w};
    wei_any = dnnl::memory::desc(wd, g.weights, tag::any);
    wei_user = dnnl::memory::desc(wd, g.weights, tag::gohwi);
  }
  const dims strides{g.stride_h, g.stride_w}, dilations{g.dilation_h - 1, g.dilation_w - 1};
  const dims pad_l{pad_top, g.pad_left}, pad_r{pad_bottom, pad_right};
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto desc = with_bias ? dnnl::convolution_forward::desc(kind, algo, slice.src_md, wei_any,
                                                          dnnl::memory::desc({g.out_c}, g.dst, tag::x),
                                                          slice.dst_md, strides, dilations, pad_l, pad_r)
                        : dnnl::convolution_forward::desc(kind, algo, slice.src_md, wei_any, slice.dst_md,
                                                          strides, dilations, pad_l, pad_r);
  auto pd = dnnl::convolution_forward::primitive_desc(desc, attr, eng);
  if (!rule.accept(pd.impl_info_str()))
    return unsupported("{}: oneDNN would run '{}', not {}", where, pd.impl_info_str(), rule.wanted);
  if (d.impl.empty()) d.impl = pd.impl_info_str();
  const auto known = std::find(d.weight_mds.begin(), d.weight_mds.end(), pd.weights_desc());
  slice.weights = static_cast<int>(known - d.weight_mds.begin());
  if (known == d.weight_mds.end()) {
    d.weight_mds.push_back(pd.weights_desc());
    d.weights.emplace_back(pd.weights_desc(), eng);
    dnnl::memory user(wei_user, eng, const_cast<void*>(user_weights));
    dnnl::stream s(eng);
    dnnl::reorder(user, d.weights.back()).execute(s, user, d.weights.back());
    s.wait();
  }
  slice.conv = dnnl::convolution_forward(pd);
  d.slices.push_back(std::move(slice));
  return ok_status();
}

}  // namespace

std::optional<ConvGeometry> geometry_with_input_pad(const ConvGeometry& g, const Shape& unpadded,
                                                    const SpatialPad& pad) {
  if (unpadded.size() != 4 || unpadded[0] != g.batch || unpadded[3] != g.in_c || unpadded[1] <= 0 ||
      unpadded[2] <= 0 || unpadded[1] + pad.top + pad.bottom != g.in_h || unpadded[2] + pad.left + pad.right != g.in_w)
    return std::nullopt;
  ConvGeometry folded = g;
  folded.in_h = unpadded[1];
  folded.in_w = unpadded[2];
  folded.pad_top += pad.top;
  folded.pad_left += pad.left;
  if (folded.in_h + folded.pad_top < (folded.out_h - 1) * folded.stride_h + 1) return std::nullopt;
  return folded;
}

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

Status build_sliced_conv(SlicedConv& out, const ConvGeometry& g, int64_t parts, const void* user_weights,
                         bool with_bias, const dnnl::primitive_attr& attr, ImplRule rule, const std::string& where) {
  parts = std::max<int64_t>(1, std::min(parts, g.batch > 1 ? g.batch : g.out_h));
  try {
    omp_set_num_threads(1);  // oneDNN sizes its kernels for the threads it sees at creation
    for (int64_t p = 0; p < parts; ++p) {
      if (g.batch > 1)
        QDET_TRY(add_slice(out, g, g.batch * p / parts, g.batch * (p + 1) / parts, 0, g.out_h, user_weights,
                           with_bias, attr, rule, where));
      else
        QDET_TRY(add_slice(out, g, 0, 1, g.out_h * p / parts, g.out_h * (p + 1) / parts, user_weights,
                           with_bias, attr, rule, where));
    }
  } catch (const dnnl::error& e) {
    return unsupported("{}: oneDNN: {}", where, e.what());
  }
  return ok_status();
}

std::string run_slice(const SlicedConv& conv, size_t k, const uint8_t* src, size_t src_element_bytes, void* dst,
                      size_t dst_element_bytes, const std::unordered_map<int, dnnl::memory>& extra) {
  const ConvSlice& slice = conv.slices[k];
  try {
    omp_set_num_threads(1);  // this thread's OpenMP setting: no team
    dnnl::engine& eng = cpu_engine();
    dnnl::stream s(eng);
    std::unordered_map<int, dnnl::memory> args = extra;
    args[DNNL_ARG_SRC] = dnnl::memory(
        slice.src_md, eng, const_cast<uint8_t*>(src) + slice.src_offset * static_cast<int64_t>(src_element_bytes));
    args[DNNL_ARG_DST] = dnnl::memory(
        slice.dst_md, eng,
        static_cast<uint8_t*>(dst) + slice.pixel_begin * slice.dst_md.dims()[1] * static_cast<int64_t>(dst_element_bytes));
    args[DNNL_ARG_WEIGHTS] = conv.weights[static_cast<size_t>(slice.weights)];
    slice.conv.execute(s, args);
    s.wait();
  } catch (const dnnl::error& e) {
    return e.what();
  }
  return {};
}

}  // namespace qdet::rt::onednn
