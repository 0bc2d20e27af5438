// OpenSSL objects as owned values: std::unique_ptr<T, OpenSslFree<T_free>> frees with the
// library's own function when it goes out of scope.
#pragma once

#include <memory>

namespace vigie::core {

template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

template <class T, auto Free>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<Free>>;

}  // namespace vigie::core
