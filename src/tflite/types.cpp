#include "tflite/types.h"

namespace qdet::tflite {

std::optional<DType> dtype_from_tflite(tfl::TensorType type) {
  switch (type) {
    case tfl::TensorType::FLOAT32: return DType::kFloat32;
    case tfl::TensorType::FLOAT16: return DType::kFloat16;
    case tfl::TensorType::INT32: return DType::kInt32;
    case tfl::TensorType::UINT8: return DType::kUInt8;
    case tfl::TensorType::INT64: return DType::kInt64;
    case tfl::TensorType::BOOL: return DType::kBool;
    case tfl::TensorType::INT16: return DType::kInt16;
    case tfl::TensorType::INT8: return DType::kInt8;
    default: return std::nullopt;
  }
}

tfl::TensorType dtype_to_tflite(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return tfl::TensorType::FLOAT32;
    case DType::kFloat16: return tfl::TensorType::FLOAT16;
    case DType::kInt8: return tfl::TensorType::INT8;
    case DType::kUInt8: return tfl::TensorType::UINT8;
    case DType::kInt16: return tfl::TensorType::INT16;
    case DType::kInt32: return tfl::TensorType::INT32;
    case DType::kInt64: return tfl::TensorType::INT64;
    case DType::kBool: return tfl::TensorType::BOOL;
    default: return tfl::TensorType::FLOAT32;  // unreachable for verified graphs
  }
}

}  // namespace qdet::tflite
