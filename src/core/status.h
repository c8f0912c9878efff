// Status: the outcome of an operation that can fail, in leveldb's shape.
//
// A Status is either OK (cheap: no allocation) or an error with a code and a
// lowercase message without trailing newline. Each layer that passes an error
// up may prefix context ("replay: data.parquet: row group 2: ...").
//
// Thread safety: a const Status may be read from several threads at once;
// mutating one needs external synchronization.
#ifndef MH_CORE_STATUS_H_
#define MH_CORE_STATUS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mh {

class [[nodiscard]] Status {
 public:
  // Serialized in logs and exit paths: values are fixed.
  enum class Code : std::uint8_t {
    kOk = 0,
    kInvalidArgument = 1,   // bad input or option; user can fix
    kNotFound = 2,          // file, key or machine does not exist
    kCorruption = 3,        // bad model, file or message contents
    kIOError = 4,           // read/write/bind failed
    kUnavailable = 5,       // peer down; retryable
    kDeadlineExceeded = 6,  // timed out
    kNotSupported = 7,      // valid but not handled (yet)
    kInternal = 8,          // a bug
  };

  Status() noexcept = default;  // OK
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return {Code::kInvalidArgument, msg}; }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status Corruption(std::string_view msg) { return {Code::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status Unavailable(std::string_view msg) { return {Code::kUnavailable, msg}; }
  static Status DeadlineExceeded(std::string_view msg) { return {Code::kDeadlineExceeded, msg}; }
  static Status NotSupported(std::string_view msg) { return {Code::kNotSupported, msg}; }
  static Status Internal(std::string_view msg) { return {Code::kInternal, msg}; }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsUnavailable() const { return code() == Code::kUnavailable; }
  bool IsDeadlineExceeded() const { return code() == Code::kDeadlineExceeded; }
  bool IsNotSupported() const { return code() == Code::kNotSupported; }
  bool IsInternal() const { return code() == Code::kInternal; }

  // The message alone ("" when OK).
  const std::string& message() const;
  // "OK", or "<code name>: <message>".
  std::string ToString() const;
  // The same error with "context: " prepended to its message; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Name of a code, e.g. "invalid argument".
  static const char* CodeName(Code code);

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg);
  std::unique_ptr<Rep> rep_;
};

}  // namespace mh

#endif  // MH_CORE_STATUS_H_
