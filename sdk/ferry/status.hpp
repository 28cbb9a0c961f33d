// Expected failures as values: every SDK call returns a Status that says whether the
// host should retry, restart the task, or report a configuration problem.
#pragma once

#include <string>
#include <utility>

#include "ferry/abi.h"

namespace ferry {

class Status {
 public:
  Status() = default;
  static Status Ok() { return {}; }
  static Status Retriable(std::string msg) { return Status(FERRY_RETRIABLE, std::move(msg)); }
  static Status Fatal(std::string msg) { return Status(FERRY_FATAL, std::move(msg)); }
  static Status Config(std::string msg) { return Status(FERRY_CONFIG, std::move(msg)); }

  bool ok() const { return code_ == FERRY_OK; }
  bool retriable() const { return code_ == FERRY_RETRIABLE; }
  ferry_status code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(ferry_status code, std::string msg) : code_(code), message_(std::move(msg)) {}
  ferry_status code_ = FERRY_OK;
  std::string message_;
};

namespace detail {
// Copies a message into the C ABI's fixed error buffer, always NUL-terminated.
inline void write_error(ferry_error* err, const std::string& msg) {
  if (err == nullptr) return;
  size_t n = msg.size() < sizeof(err->message) - 1 ? msg.size() : sizeof(err->message) - 1;
  msg.copy(err->message, n);
  err->message[n] = '\0';
}
inline Status from_c(ferry_status s, const ferry_error& err) {
  switch (s) {
    case FERRY_OK:
      return Status::Ok();
    case FERRY_RETRIABLE:
      return Status::Retriable(err.message);
    case FERRY_CONFIG:
      return Status::Config(err.message);
    default:
      return Status::Fatal(err.message);
  }
}
inline ferry_status to_c(const Status& s, ferry_error* err) {
  if (!s.ok()) write_error(err, s.message());
  return s.code();
}
}  // namespace detail

}  // namespace ferry
