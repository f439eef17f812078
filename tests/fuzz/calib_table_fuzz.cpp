// A calibration table (quantize --table / --save-table JSON) on arbitrary bytes.
#include <string_view>

#include "fuzz_target.h"
#include "quant/calib_table.h"

QDET_FUZZ_TARGET(calib_table) {
  (void)qdet::quant::table_from_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  return 0;
}
