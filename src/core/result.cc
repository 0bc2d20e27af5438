#include "vigie/core/result.h"

namespace vigie::core {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "invalid input";
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kIo:
      return "i/o";
    case ErrorCode::kStore:
      return "store";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  if (where.empty()) return message;
  return where + ": " + message;
}

int exit_code(const Error& error) {
  switch (error.code) {
    case ErrorCode::kUsage:
    case ErrorCode::kIo:
      return 2;
    default:
      return 1;
  }
}

}  // namespace vigie::core
