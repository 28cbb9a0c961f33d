// A value or the Status that says why there is none: the host's return type for
// fallible functions that produce something (a Status alone for those that do not).
// [[nodiscard]], so an ignored failure does not compile quietly.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "ferry/status.hpp"

namespace ferry {

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit, like std::expected
  Expected(Status failure) : v_(std::move(failure)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }

  // The failure; Ok when there is a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ferry
