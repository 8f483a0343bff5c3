// Status and Result<T>: errors as values, as in LevelDB and Abseil.
//
// A Status is OK or carries a code and a message meant for a person ("events.csv:12: column
// 'date': '2020-13-01' is not a date"). Functions that can fail return Status or Result<T>;
// nothing in the engine throws for expected failures such as malformed input.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ark {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user or a file
  kNotFound,
  kCorruption,  // stored data fails its checks
  kIOError,
  kPermissionDenied,
  kFailedPrecondition,  // e.g. "run ark link before ark build"
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>"-style text for logs and stderr.
  std::string ToString() const;
  // Returns a copy whose message is "<prefix>: <message>".
  Status WithContext(const std::string& prefix) const {
    if (ok()) return *this;
    return Status(code_, prefix + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define ARK_CONCAT_INNER(a, b) a##b
#define ARK_CONCAT(a, b) ARK_CONCAT_INNER(a, b)

#define ARK_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ark::Status ark_status_ = (expr);        \
    if (!ark_status_.ok()) return ark_status_; \
  } while (0)

#define ARK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#define ARK_ASSIGN_OR_RETURN(lhs, expr) \
  ARK_ASSIGN_OR_RETURN_IMPL(ARK_CONCAT(ark_result_, __LINE__), lhs, expr)

}  // namespace ark
