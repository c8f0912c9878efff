// Result<T>: a value or a non-OK Status, close to std::expected<T, Status>
// (which GCC 12 lacks in C++20 mode) so that a later switch is mechanical.
//
// Thread safety: as for T.
#ifndef MH_CORE_RESULT_H_
#define MH_CORE_RESULT_H_

#include <optional>
#include <utility>

#include "core/check.h"
#include "core/status.h"

namespace mh {

template <typename T>
class [[nodiscard]] Result {
 public:
  // A value.
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An error. Passing an OK status is a bug (checked).
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    MH_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Access to the value; calling these on an error is a bug (checked).
  T& value() & {
    MH_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    MH_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    MH_CHECK(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mh

#define MH_CONCAT_INNER_(a, b) a##b
#define MH_CONCAT_(a, b) MH_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is an error.
#define MH_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::mh::Status mh_status_ = (expr);        \
    if (!mh_status_.ok()) return mh_status_; \
  } while (0)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define MH_ASSIGN_OR_RETURN(lhs, expr) \
  MH_ASSIGN_OR_RETURN_IMPL_(MH_CONCAT_(mh_result_, __LINE__), lhs, expr)
#define MH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // MH_CORE_RESULT_H_
