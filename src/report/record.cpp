#include "report/record.h"

namespace qdet::report {

const Record* baseline_of(const std::vector<Record>& records) {
  for (const auto& r : records)
    if (r.variant == "fp32" && r.runtime == "qdet") return &r;
  return records.empty() ? nullptr : &records.front();
}

}  // namespace qdet::report
