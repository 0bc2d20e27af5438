// The one result type of Vigie: every fallible function returns Result<T> (or Status),
// carrying either a value or an Error that says what went wrong and where. Exceptions
// never cross a module's public face.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace vigie::core {

enum class ErrorCode {
  kInvalidInput,  // the input was read but refused (bad row, bad value, failed check)
  kUsage,         // the request itself is malformed (unknown option, missing argument)
  kNotFound,      // the named thing does not exist
  kConflict,      // the request contradicts what is stored (duplicate, stale version)
  kIo,            // a file or socket could not be read or written
  kStore,         // the database refused or failed
  kUnavailable,   // a dependency (server, service) cannot be reached
  kInternal,      // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Where the problem is: "file:line:column", "file:line column 'ip'", a JSON pointer, an XML
  // element... Empty when the error has no position.
  std::string where;

  // "where: message", or just the message.
  [[nodiscard]] std::string to_string() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message, std::string where = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(where)});
}

// The process exit code for an error: 1 when the input or request was refused, 2 for usage
// errors and unreadable input (see DESIGN.md, "Exit codes").
int exit_code(const Error& error);

}  // namespace vigie::core

// Propagates an error from an expression returning Status/Result, like LevelDB's
// RETURN_IF_ERROR. Used only where early return keeps a function flat.
#define VIGIE_TRY(expr)                                                                  \
  do {                                                                                   \
    if (auto vigie_try_result_ = (expr); !vigie_try_result_) {                           \
      return tl::unexpected<::vigie::core::Error>(std::move(vigie_try_result_).error()); \
    }                                                                                    \
  } while (false)
