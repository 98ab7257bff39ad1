// A value or a failure that says what went wrong, for code whose errors come from outside (events, replies,
// configuration). The failure's type is a Lambda error type (see error_types.hpp) so it can be posted as is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lambda_bridge {

struct failure {
  std::string_view type;  // one of error_types.hpp; static storage
  std::string message;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  result(failure error) : v_(std::move(error)) {}     // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  const failure& error() const { return std::get<1>(v_); }
  failure& error() { return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

// For operations with nothing to return: the failure, or empty on success (so it is true when something failed).
using maybe_failure = std::optional<failure>;

}  // namespace lambda_bridge
