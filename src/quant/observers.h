// Observers: per-tensor statistics gathered during calibration, turned into a range
// [min, max] to quantize with (docs/ARCHITECTURE.md, "Quantizer").
//
// A Histogram streams values of one tensor: `bins` equal bins over a range that always holds
// 0 and every value seen so far. When a value falls outside, the range doubles (to the side
// needed) and pairs of bins merge exactly, so growth never redistributes counts approximately.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "quant/spec.h"

namespace qdet::quant {

class Histogram {
 public:
  explicit Histogram(int bins = 2048);

  // Non-finite values are counted in nonfinite() and otherwise ignored.
  void add(std::span<const float> values);

  int64_t count() const { return count_; }
  int64_t nonfinite() const { return nonfinite_; }
  float min() const { return min_; }  // exact extremes of the finite values seen
  float max() const { return max_; }
  // Histogram range and bins: bin i covers [lo + i*w, lo + (i+1)*w), w = (hi - lo) / bins.
  double lo() const { return lo_; }
  double hi() const { return lo_ + width_ * static_cast<double>(bins_.size()); }
  double bin_width() const { return width_; }
  const std::vector<double>& bins() const { return bins_; }

 private:
  void grow_to(double v);

  std::vector<double> bins_;
  double lo_ = 0.0, width_ = 0.0;
  float min_ = 0.f, max_ = 0.f;
  int64_t count_ = 0, nonfinite_ = 0;
};

enum class Method : uint8_t { kMinMax, kPercentile, kMse, kKl };
const char* method_name(Method m);
Result<Method> parse_method(const std::string& name);

// What the tensor's readers do with it, for the MSE observer: the error that matters is the
// error after a saturating reader. kSigmoid: read only by LOGISTIC; kSilu: read by LOGISTIC and
// by the MUL of x * sigmoid(x) (SiLU / swish), whose long negative tail maps to ~0 and can be
// clipped almost for free.
enum class Transfer : uint8_t { kIdentity, kSigmoid, kSilu };

struct ObserverOptions {
  Method method = Method::kMinMax;
  double percentile = 99.99;  // kPercentile: keep this share of values inside on each side
  int levels = 256;           // quantization levels the range is chosen for (256 int8, 65536 int16)
};

// The range of a histogram under an observer. minmax: the exact extremes. percentile: the
// (100 - p)% and p% quantiles (the exact extreme on a side with no values beyond 0).
// mse: the clipping range minimizing the expected squared error of uniform quantization with
// `levels` levels over the histogram (clipped mass pays its distance, the rest step^2/12),
// measured after the readers' transfer function.
// kl: TensorRT's entropy calibration on |x| (2048 bins; levels/2 quantization bins for signed
// data, `levels` for one-signed data), threshold T giving [max(min, -T), min(max, T)].
// An empty histogram gives [0, 0].
Range observe_range(const Histogram& histogram, const ObserverOptions& options,
                    Transfer transfer = Transfer::kIdentity);

// Each observer on its own, for tests and tools.
Range minmax_range(const Histogram& h);
Range percentile_range(const Histogram& h, double percentile);
Range mse_range(const Histogram& h, int levels, Transfer transfer = Transfer::kIdentity);
Range kl_range(const Histogram& h, int levels);

// Expected squared quantization error of the histogram for range r and `levels` levels, measured
// after `transfer`: values inside cost step^2/12 * g'(x)^2, clipped values (g(x) - g(bound))^2.
double quantization_mse(const Histogram& h, Range r, int levels,
                        Transfer transfer = Transfer::kIdentity);

}  // namespace qdet::quant
