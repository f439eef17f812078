// TFLite TensorType <-> qdet DType (internal to src/tflite).
#pragma once

#include <optional>

#include "tensor/dtype.h"
#include "tflite/tflite_generated.h"

namespace qdet::tflite {

// nullopt for TFLite types qdet does not carry (STRING, COMPLEX64, FLOAT64, INT4, ...).
std::optional<DType> dtype_from_tflite(tfl::TensorType type);
tfl::TensorType dtype_to_tflite(DType dtype);

}  // namespace qdet::tflite
