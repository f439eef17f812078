#include "quant/observers.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/named.h"

namespace qdet::quant {

Histogram::Histogram(int bins) : bins_(std::max(bins, 8), 0.0) {}

void Histogram::grow_to(double v) {
  const auto n = static_cast<int64_t>(bins_.size());
  while (v < lo_ || v >= hi()) {
    // Double the range toward v; old bin i lands in new bin (offset + i) / 2.
    const bool left = v < lo_;
    const int64_t offset = left ? n : 0;
    std::vector<double> merged(n, 0.0);
    for (int64_t i = 0; i < n; ++i) merged[(offset + i) / 2] += bins_[i];
    bins_ = std::move(merged);
    if (left) lo_ -= width_ * static_cast<double>(n);
    width_ *= 2.0;
  }
}

void Histogram::add(std::span<const float> values) {
  // The first finite values set the initial range (holding 0); later ones grow it.
  size_t i = 0;
  if (count_ == 0) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
    for (float v : values)
      if (std::isfinite(v)) mn = std::min(mn, v), mx = std::max(mx, v);
    if (!(mn <= mx)) {  // nothing finite
      nonfinite_ += static_cast<int64_t>(values.size());
      return;
    }
    min_ = mn;
    max_ = mx;
    const double lo = std::min<double>(0.0, mn), hi = std::max<double>(0.0, mx);
    double span = hi - lo;
    if (span <= 0) span = 1e-8;  // all zero: any small range
    lo_ = lo;
    // A little headroom so that the largest value falls inside the last bin.
    width_ = span * (1.0 + 1e-6) / static_cast<double>(bins_.size());
  }
  for (; i < values.size(); ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) {
      ++nonfinite_;
      continue;
    }
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    double pos = (static_cast<double>(v) - lo_) * (1.0 / width_);
    if (pos < 0 || pos >= static_cast<double>(bins_.size())) {
      grow_to(v);
      pos = (static_cast<double>(v) - lo_) / width_;
    }
    const auto b = std::min<int64_t>(static_cast<int64_t>(pos), static_cast<int64_t>(bins_.size()) - 1);
    bins_[b] += 1.0;
    ++count_;
  }
}

namespace {

constexpr Named<Method> kMethodNames[] = {
    {Method::kMinMax, "minmax"}, {Method::kPercentile, "percentile"}, {Method::kMse, "mse"}, {Method::kKl, "kl"}};

}  // namespace

const char* method_name(Method m) { return name_of(kMethodNames, m); }

Result<Method> parse_method(const std::string& name) {
  if (name == "entropy") return Method::kKl;
  return parse_named(kMethodNames, name, "calibration method");
}

Range minmax_range(const Histogram& h) {
  if (h.count() == 0) return {};
  return {h.min(), h.max()};
}

namespace {

// The value below which `target` of the histogram's mass lies (linear inside a bin).
double quantile(const Histogram& h, double target) {
  const auto& b = h.bins();
  double cum = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (cum + b[i] >= target && b[i] > 0) {
      const double frac = (target - cum) / b[i];
      return h.lo() + (static_cast<double>(i) + std::clamp(frac, 0.0, 1.0)) * h.bin_width();
    }
    cum += b[i];
  }
  return h.hi();
}

}  // namespace

Range percentile_range(const Histogram& h, double percentile) {
  if (h.count() == 0) return {};
  const double total = static_cast<double>(h.count());
  const double p = std::clamp(percentile, 50.0, 100.0) / 100.0;
  Range r{h.min(), h.max()};
  if (h.min() < 0) r.min = static_cast<float>(std::max<double>(h.min(), quantile(h, (1.0 - p) * total)));
  if (h.max() > 0) r.max = static_cast<float>(std::min<double>(h.max(), quantile(h, p * total)));
  return r;
}

namespace {

double transfer_value(Transfer t, double x) {
  switch (t) {
    case Transfer::kIdentity: return x;
    case Transfer::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Transfer::kSilu: return x / (1.0 + std::exp(-x));
  }
  return x;
}

double transfer_slope(Transfer t, double x) {
  switch (t) {
    case Transfer::kIdentity: return 1.0;
    case Transfer::kSigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-x));
      return s * (1.0 - s);
    }
    case Transfer::kSilu: {
      const double s = 1.0 / (1.0 + std::exp(-x));
      return s * (1.0 + x * (1.0 - s));
    }
  }
  return 1.0;
}

}  // namespace

double quantization_mse(const Histogram& h, Range r, int levels, Transfer transfer) {
  const auto& b = h.bins();
  const double step = (static_cast<double>(r.max) - r.min) / std::max(1, levels - 1);
  const double inside = step * step / 12.0;
  const double g_lo = transfer_value(transfer, r.min), g_hi = transfer_value(transfer, r.max);
  double err = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == 0) continue;
    const double c = h.lo() + (static_cast<double>(i) + 0.5) * h.bin_width();
    double e;
    if (c < r.min) {
      const double d = transfer_value(transfer, c) - g_lo;
      e = d * d;
    } else if (c > r.max) {
      const double d = transfer_value(transfer, c) - g_hi;
      e = d * d;
    } else {
      const double slope = transfer_slope(transfer, c);
      e = inside * slope * slope;
    }
    err += b[i] * e;
  }
  return err / std::max<double>(1.0, static_cast<double>(h.count()));
}

Range mse_range(const Histogram& h, int levels, Transfer transfer) {
  if (h.count() == 0) return {};
  const double mn = std::min(0.f, h.min()), mx = std::max(0.f, h.max());
  if (mx - mn <= 0) return {h.min(), h.max()};
  auto eval = [&](double lo, double hi) {
    return quantization_mse(h, Range{static_cast<float>(lo), static_cast<float>(hi)}, levels, transfer);
  };
  // 1. Shrink both ends together; 2. move each end alone over a geometric grid down to 1/1000
  // of its extreme (three rounds of coordinate descent).
  constexpr int kSteps = 200;
  double best_lo = mn, best_hi = mx, best = eval(mn, mx);
  for (int k = 1; k < kSteps; ++k) {
    const double a = static_cast<double>(k) / kSteps;
    const double e = eval(mn * a, mx * a);
    if (e < best) best = e, best_lo = mn * a, best_hi = mx * a;
  }
  for (int round = 0; round < 3; ++round) {
    for (int side = 0; side < 2; ++side) {
      const double extreme = side == 0 ? mx : mn;
      if (extreme == 0) continue;
      for (int k = 0; k <= kSteps; ++k) {
        const double v = extreme * std::pow(1e-3, static_cast<double>(k) / kSteps);
        const double e = side == 0 ? eval(best_lo, v) : eval(v, best_hi);
        if (e < best) {
          best = e;
          (side == 0 ? best_hi : best_lo) = v;
        }
      }
    }
  }
  Range r{static_cast<float>(std::max<double>(best_lo, h.min())),
          static_cast<float>(std::min<double>(best_hi, h.max()))};
  if (h.min() >= 0) r.min = h.min();
  if (h.max() <= 0) r.max = h.max();
  return r;
}

Range kl_range(const Histogram& h, int levels) {
  if (h.count() == 0) return {};
  const bool signed_data = h.min() < 0 && h.max() > 0;
  const double amax = std::max(std::fabs(double(h.min())), std::fabs(double(h.max())));
  if (amax <= 0) return {h.min(), h.max()};
  // |x| histogram with 2048 bins over [0, amax]; each source bin's mass is spread over the
  // target bins it overlaps, in proportion.
  constexpr int kBins = 2048;
  std::vector<double> hist(kBins, 0.0);
  const double tw = amax / kBins;
  auto deposit = [&](double a, double b, double mass) {  // 0 <= a < b
    if (mass <= 0 || b <= a) return;
    const double density = mass / (b - a);
    for (double x = a; x < b;) {
      const auto bin = std::min<int64_t>(static_cast<int64_t>(x / tw), kBins - 1);
      const double end = std::min(b, static_cast<double>(bin + 1) * tw);
      const double next = end > x ? end : b;  // the last bin absorbs anything beyond amax
      hist[bin] += density * (next - x);
      x = next;
    }
  };
  const auto& src = h.bins();
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == 0) continue;
    const double a = h.lo() + static_cast<double>(i) * h.bin_width();
    const double b = a + h.bin_width();
    if (b <= 0) deposit(-b, -a, src[i]);
    else if (a >= 0) deposit(a, b, src[i]);
    else {
      deposit(0, -a, src[i] * (-a) / (b - a));
      deposit(0, b, src[i] * b / (b - a));
    }
  }
  // TensorRT's search: for each candidate threshold bin i, P = hist[0:i] with the outliers added
  // to its last bin, Q = P's bins merged into `quant` groups then spread back over the non-empty
  // bins; pick the i with the smallest KL(P || Q).
  const int quant = signed_data ? std::max(2, levels / 2) : std::max(2, levels);
  if (quant >= kBins) return {h.min(), h.max()};
  std::vector<double> suffix(kBins + 1, 0.0);
  for (int i = kBins - 1; i >= 0; --i) suffix[i] = suffix[i + 1] + hist[i];
  double best_kl = std::numeric_limits<double>::infinity();
  int best_i = kBins;
  std::vector<double> p, q;
  for (int i = quant; i <= kBins; i += 2) {
    p.assign(hist.begin(), hist.begin() + i);
    p[i - 1] += suffix[i];
    q.assign(i, 0.0);
    const double merged = static_cast<double>(i) / quant;
    for (int j = 0; j < quant; ++j) {
      const int start = static_cast<int>(j * merged);
      const int stop = j == quant - 1 ? i : static_cast<int>((j + 1) * merged);
      double sum = 0.0;
      int nonzero = 0;
      for (int k = start; k < stop; ++k) {
        sum += hist[k];
        nonzero += hist[k] != 0;
      }
      if (nonzero == 0) continue;
      for (int k = start; k < stop; ++k)
        if (hist[k] != 0) q[k] = sum / nonzero;
    }
    double psum = 0, qsum = 0;
    for (int k = 0; k < i; ++k) psum += p[k], qsum += q[k];
    if (psum <= 0 || qsum <= 0) continue;
    double kl = 0.0;
    for (int k = 0; k < i; ++k) {
      if (p[k] <= 0) continue;
      const double pk = p[k] / psum;
      const double qk = std::max(q[k] / qsum, 1e-12);  // smoothing of empty Q bins
      kl += pk * std::log(pk / qk);
    }
    if (kl < best_kl) best_kl = kl, best_i = i;
  }
  const double t = std::min(amax, (static_cast<double>(best_i) + 0.5) * tw);
  return {static_cast<float>(std::max<double>(h.min(), -t)),
          static_cast<float>(std::min<double>(h.max(), t))};
}

Range observe_range(const Histogram& h, const ObserverOptions& o, Transfer transfer) {
  switch (o.method) {
    case Method::kMinMax: return minmax_range(h);
    case Method::kPercentile: return percentile_range(h, o.percentile);
    case Method::kMse: return mse_range(h, o.levels, transfer);
    case Method::kKl: return kl_range(h, o.levels);
  }
  return minmax_range(h);
}

}  // namespace qdet::quant
