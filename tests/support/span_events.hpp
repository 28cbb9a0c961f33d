// Reading span events back from the span topic with kcat, for end-to-end tests.
#pragma once

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/kafka_env.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {

using nlohmann::json;

inline std::vector<json> span_events(const std::string& topic) {
  std::vector<json> out;
  for (const auto& m : kcat_consume(topic)) out.push_back(json::parse(m.value.value_or("{}")));
  return out;
}

inline std::vector<json> of_type(const std::vector<json>& events, const std::string& type,
                                 const std::string& span = "") {
  std::vector<json> out;
  for (const auto& e : events)
    if (e.value("type", "") == type && (span.empty() || e.value("span", "") == span))
      out.push_back(e);
  return out;
}

inline size_t completions(const std::vector<json>& events, const std::string& group) {
  size_t n = 0;
  for (const auto& e : of_type(events, "span.completed")) n += e.value("group", "") == group;
  return n;
}

// One line per span with the event types it has so far, for failure messages.
inline std::string span_summary(const std::vector<json>& events) {
  std::map<std::string, std::string> by_span;
  for (const auto& e : events) {
    std::string type = e.value("type", "");
    if (type == "span.completed") type += "(" + e.value("group", "") + ")";
    by_span[e.value("span", "-")] += " " + type;
  }
  std::string out;
  for (const auto& [span, types] : by_span) out += span + ":" + types + "\n";
  return out;
}

// Waits until `group` completed at least `n` spans; `events` holds the last read. On
// failure it says which spans got which events.
inline testing::AssertionResult wait_for_completions(const std::string& span_topic,
                                                     const std::string& group, size_t n,
                                                     std::chrono::milliseconds timeout,
                                                     std::vector<json>& events) {
  if (wait_until(
          [&] {
            events = span_events(span_topic);
            return completions(events, group) >= n;
          },
          timeout))
    return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << completions(events, group) << " of " << n << " span.completed for " << group
         << " after " << timeout.count() << " ms; events by span:\n"
         << span_summary(events);
}

// Waits until an event of `type` is in the span topic; `events` holds the last read.
inline bool wait_for_event(const std::string& span_topic, const std::string& type,
                           std::chrono::milliseconds timeout, std::vector<json>& events) {
  return wait_until(
      [&] {
        events = span_events(span_topic);
        return !of_type(events, type).empty();
      },
      timeout);
}

}  // namespace ferry::test
