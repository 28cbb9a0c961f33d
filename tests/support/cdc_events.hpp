// The change-capture events as the odbc-cdc end-to-end tests read them back from Kafka
// with kcat, and the connector file they run.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/ferry_instance.hpp"
#include "support/kafka_env.hpp"
#include "support/pg_env.hpp"
#include "support/wait_for.hpp"

namespace ferry::test {

inline std::string cdc_connector(const Postgres& pg, const std::string& topic_prefix,
                                 const std::string& slot, const std::string& extra_config = "",
                                 const std::string& tables = "") {
  std::string c = "plugin = \"odbc-cdc\"\ntopic = \"" + topic_prefix +
                  ".{table}\"\n[config]\nconnection = \"" + pg.connection() + "\"\nslot = \"" +
                  slot + "\"\npublication = \"" + slot + "\"\npoll_interval = \"100ms\"\n";
  if (!tables.empty()) c += "tables = [\"" + tables + "\"]\n";
  return c + extra_config;
}

struct Event {
  std::optional<nlohmann::json> key;
  std::optional<nlohmann::json> value;  // nullopt: tombstone
  std::string span;
};

inline std::vector<Event> events_in(const std::string& topic, int64_t limit = -1) {
  std::vector<Event> out;
  for (const auto& m : kcat_consume(topic, limit)) {
    Event e;
    if (m.key) e.key = nlohmann::json::parse(*m.key);
    if (m.value) e.value = nlohmann::json::parse(*m.value);
    if (auto it = m.headers.find("ferry.span"); it != m.headers.end()) e.span = it->second;
    out.push_back(std::move(e));
  }
  return out;
}

// Waits until `topic` holds at least `n` records and returns them.
inline std::vector<Event> wait_for_events(
    const std::string& topic, size_t n, FerryInstance& ferry,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<Event> events;
  bool ok = wait_until(
      [&] {
        int64_t end = end_offset(topic);
        if (end < static_cast<int64_t>(n)) return false;
        events = events_in(topic, end);
        return events.size() >= n;
      },
      timeout, std::chrono::milliseconds(200));
  EXPECT_TRUE(ok) << "expected " << n << " records in " << topic << ", have " << events.size()
                  << "\n"
                  << ferry.log();
  return events;
}

inline bool log_says(FerryInstance& ferry, const std::string& text) {
  return wait_until([&] { return ferry.log().find(text) != std::string::npos; },
                    std::chrono::seconds(60));
}

inline std::string op_of(const Event& e) {
  return e.value ? (*e.value)["op"].get<std::string>() : "tombstone";
}

}  // namespace ferry::test
