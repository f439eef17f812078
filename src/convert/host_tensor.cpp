#include "convert/host_tensor.h"

#include <cmath>
#include <cstring>

#include "tensor/fp16.h"

namespace qdet::convert {
namespace {

template <typename T>
HostTensor make(DType dtype, Shape shape, std::span<const T> values) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Visits every element as a double (exact for every integer type here up to 2^53).
template <typename F>
Status for_each_value(const HostTensor& t, F&& f) {
  const size_t n = t.data.size() / dtype_size(t.dtype);
  const uint8_t* p = t.data.data();
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::kFloat32: f(i, static_cast<double>(load<float>(p + 4 * i)), false); break;
      case DType::kFloat16: f(i, static_cast<double>(fp16_to_fp32(load<uint16_t>(p + 2 * i))), false); break;
      case DType::kInt8: f(i, static_cast<double>(load<int8_t>(p + i)), true); break;
      case DType::kUInt8: f(i, static_cast<double>(load<uint8_t>(p + i)), true); break;
      case DType::kBool: f(i, static_cast<double>(load<uint8_t>(p + i) != 0), true); break;
      case DType::kInt16: f(i, static_cast<double>(load<int16_t>(p + 2 * i)), true); break;
      case DType::kInt32: f(i, static_cast<double>(load<int32_t>(p + 4 * i)), true); break;
      case DType::kInt64: break;  // handled by the callers to keep all 64 bits
      default: return unsupported("constant of type {} has no numeric value here", dtype_name(t.dtype));
    }
  }
  return ok_status();
}

}  // namespace

HostTensor HostTensor::from_floats(Shape shape, std::span<const float> values) {
  return make(DType::kFloat32, std::move(shape), values);
}
HostTensor HostTensor::from_int64s(Shape shape, std::span<const int64_t> values) {
  return make(DType::kInt64, std::move(shape), values);
}
HostTensor HostTensor::from_int32s(Shape shape, std::span<const int32_t> values) {
  return make(DType::kInt32, std::move(shape), values);
}

Result<std::vector<float>> HostTensor::as_floats() const {
  const size_t n = data.size() / dtype_size(dtype);
  std::vector<float> out(n);
  if (dtype == DType::kInt64) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<int64_t>(data.data() + 8 * i));
    return out;
  }
  QDET_TRY(for_each_value(*this, [&](size_t i, double v, bool) { out[i] = static_cast<float>(v); }));
  return out;
}

Result<std::vector<int64_t>> HostTensor::as_int64s() const {
  const size_t n = data.size() / dtype_size(dtype);
  std::vector<int64_t> out(n);
  if (dtype == DType::kInt64) {
    for (size_t i = 0; i < n; ++i) out[i] = load<int64_t>(data.data() + 8 * i);
    return out;
  }
  Status bad = ok_status();
  QDET_TRY(for_each_value(*this, [&](size_t i, double v, bool) {
    if (!std::isfinite(v) || std::fabs(v) > 9.2e18) {
      bad = invalid_argument("value {} does not fit an integer", v);
      return;
    }
    out[i] = static_cast<int64_t>(v);
  }));
  QDET_TRY(bad);
  return out;
}

HostTensor transpose(const HostTensor& in, std::span<const int32_t> perm) {
  const size_t rank = in.shape.size();
  HostTensor out;
  out.dtype = in.dtype;
  out.shape.resize(rank);
  for (size_t i = 0; i < rank; ++i) out.shape[i] = in.shape[perm[i]];
  out.data.resize(in.data.size());
  const size_t es = dtype_size(in.dtype);
  const int64_t n = in.num_elements();
  if (n == 0) return out;
  // Strides of the input, visited in output order.
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t i = rank; i-- > 1;) in_stride[i - 1] = in_stride[i] * in.shape[i];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t src = 0;
    for (size_t i = 0; i < rank; ++i) src += idx[i] * in_stride[perm[i]];
    std::memcpy(out.data.data() + o * es, in.data.data() + src * es, es);
    for (size_t i = rank; i-- > 0;) {
      if (++idx[i] < out.shape[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

Result<HostTensor> cast(const HostTensor& in, DType to) {
  if (in.dtype == to) return in;
  switch (to) {
    case DType::kFloat32: {
      QDET_ASSIGN_OR_RETURN(auto v, in.as_floats());
      return HostTensor::from_floats(in.shape, v);
    }
    case DType::kInt64: {
      QDET_ASSIGN_OR_RETURN(auto v, in.as_int64s());
      return HostTensor::from_int64s(in.shape, v);
    }
    case DType::kInt32: {
      QDET_ASSIGN_OR_RETURN(auto v, in.as_int64s());
      std::vector<int32_t> w(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX)
          return out_of_range("value {} does not fit int32", v[i]);
        w[i] = static_cast<int32_t>(v[i]);
      }
      return HostTensor::from_int32s(in.shape, w);
    }
    default:
      return unsupported("cast of a constant to {} is not supported", dtype_name(to));
  }
}

}  // namespace qdet::convert
