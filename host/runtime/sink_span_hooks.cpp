// The sink side of spans: span_begin before a span's first record, span_end once every
// record of it on this task's partitions is put, the open spans saved with the offsets
// so a restart (or the next owner of a partition) resumes them, and span.error events
// for records the sink dead-letters.
#include "runtime/sink_runner.hpp"

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "spans/span_ledger.hpp"
#include "spans/span_publisher.hpp"
#include "spans/span_tracker.hpp"

namespace ferry::runtime {

void SinkRunner::report_span_error(const ferry_record_view& r, const char* reason) {
  if (env_.span_publisher == nullptr) return;
  std::string id;
  uint64_t seq = 0;
  if (r.struct_size >= sizeof(ferry_record_view) && r.span.data != nullptr) {
    id.assign(r.span.data, r.span.len);
    seq = r.span_seq;
  }
  for (size_t i = 0; id.empty() && i < r.header_count; ++i)  // a view the plugin built
    if (std::strcmp(r.headers[i].name, "ferry.span") == 0 && r.headers[i].value.data != nullptr)
      id.assign(r.headers[i].value.data, r.headers[i].value.len);
  if (id.empty()) return;
  // Counted in span.completed's `errors` for this group; acknowledged before the
  // offsets past the record are committed (flush_and_commit).
  env_.span_publisher->publish("span.error", id,
                               {{"connector", connector_},
                                {"group", "ferry-" + connector_},
                                {"seq", seq},
                                {"reason", reason}});
  span_errors_unflushed_ = true;
}

bool SinkRunner::span_hooks() const {
  // Without the tracker no span could ever end, and a plugin that holds a span's
  // records back until its end (odbc-sink) would hold them forever.
  const ferry_plugin* p = plugin_.plugin();
  return p != nullptr && env_.span_tracker != nullptr && FERRY_PLUGIN_HAS(p, sink_span_begin) &&
         FERRY_PLUGIN_HAS(p, sink_span_end);
}

void SinkRunner::note_span_partitions(const std::string& id) {
  nlohmann::json tps = nlohmann::json::array();
  for (const auto& [t, p] : active_spans_[id]) tps.push_back({t, p});
  span_changes_[std::string(spans::kStateKeyPrefix) + id] = tps.dump();
}

Status SinkRunner::begin_spans(const std::vector<kafka::MessagePtr>& batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const ferry_record_view& v = views_[i];
    if (v.span.data == nullptr || v.span.len == 0) continue;
    std::string id(v.span.data, v.span.len);
    TopicPartition tp{v.topic, v.partition};
    auto it = active_spans_.find(id);
    if (it != active_spans_.end()) {
      if (it->second.insert(tp).second) note_span_partitions(id);
      continue;
    }
    Status s = with_retries("span_begin", [&] {
      ferry_error err{};
      return PluginTask::wrap(plugin_.plugin()->sink_span_begin(plugin_.get(), v.span, &err), err);
    });
    if (!s.ok()) return s;
    active_spans_[id].insert(tp);
    note_span_partitions(id);
  }
  return Status::Ok();
}

void SinkRunner::restore_spans(const std::set<TopicPartition>& partitions) {
  std::vector<std::pair<std::string, std::set<TopicPartition>>> found;
  env_.offsets->for_each([&](const std::string& k, const std::string& v) {
    if (!k.starts_with(spans::kStateKeyPrefix)) return;
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (!j.is_array()) return;
    std::set<TopicPartition> tps;
    bool ours = false;
    try {
      for (const auto& e : j) {
        TopicPartition tp{e.at(0).get<std::string>(), e.at(1).get<int32_t>()};
        ours = ours || partitions.contains(tp);
        tps.insert(tp);
      }
    } catch (const std::exception& e) {
      log_->warn("ignoring unreadable span state {}: {}", k, e.what());
      return;
    }
    if (ours) found.emplace_back(k.substr(spans::kStateKeyPrefix.size()), std::move(tps));
  });
  for (auto& [id, tps] : found) {
    if (active_spans_.contains(id)) continue;
    ferry_error err{};
    ferry_bytes b{id.data(), id.size()};
    Status s = PluginTask::wrap(plugin_.plugin()->sink_span_begin(plugin_.get(), b, &err), err);
    if (!s.ok()) {
      failure_ = "span_begin after restart: " + s.message();
      return;
    }
    log_->info("resuming span {}", id);
    active_spans_[id] = std::move(tps);
  }
}

Status SinkRunner::end_finished_spans() {
  if (env_.span_tracker == nullptr || active_spans_.empty()) return Status::Ok();
  auto now = Clock::now();
  if (now < next_span_check_) return Status::Ok();
  next_span_check_ = now + std::chrono::milliseconds(20);
  std::vector<std::string> finished;
  for (const auto& [id, tps] : active_spans_) {
    auto offsets = env_.span_tracker->delivered_offsets(id);
    if (!offsets) continue;
    bool done = true;
    for (const auto& [topic, parts] : *offsets)
      for (const auto& [p, range] : parts) {
        TopicPartition tp{topic, p};
        if (!assigned_.contains(tp)) continue;  // another task's share of the span
        auto it = processed_.find(tp);
        if (it == processed_.end() || it->second <= range.second) done = false;
      }
    if (done) finished.push_back(id);
  }
  if (finished.empty()) return Status::Ok();
  Status s = with_retries("flush", [&] {
    ferry_error err{};
    return PluginTask::wrap(plugin_.plugin()->sink_flush(plugin_.get(), &err), err);
  });
  if (!s.ok()) return s;
  for (const auto& id : finished) {
    ferry_bytes b{id.data(), id.size()};
    s = with_retries("span_end", [&] {
      ferry_error err{};
      return PluginTask::wrap(plugin_.plugin()->sink_span_end(plugin_.get(), b, &err), err);
    });
    if (!s.ok()) return s;
    active_spans_.erase(id);
    span_changes_[std::string(spans::kStateKeyPrefix) + id] = std::nullopt;
  }
  return with_retries("commit", [&] { return flush_and_commit(); });
}

Status SinkRunner::tell_empty_spans() {
  const ferry_plugin* p = plugin_.plugin();
  if (!FERRY_PLUGIN_HAS(p, sink_span_empty)) return Status::Ok();
  auto now = Clock::now();
  if (now < next_empty_check_) return Status::Ok();
  next_empty_check_ = now + std::chrono::milliseconds(200);
  std::set<std::string> current;
  for (const auto& topic : env_.connector->topics) {
    if (!assigned_.contains(TopicPartition{topic, 0})) continue;
    for (const auto& span : env_.span_tracker->empty_delivered(topic)) {
      current.insert(span.id);
      if (told_empty_.contains(span.id)) continue;
      std::vector<std::string> names, values;
      for (const auto& [k, v] : span.attrs.items()) {
        if (!v.is_string()) continue;
        names.push_back(k);
        values.push_back(v.get<std::string>());
      }
      std::vector<ferry_header_view> attrs;
      for (size_t i = 0; i < names.size(); ++i)
        attrs.push_back({names[i].c_str(), {values[i].data(), values[i].size()}});
      ferry_span_info info{};
      info.struct_size = sizeof(info);
      info.id = {span.id.data(), span.id.size()};
      info.topic = topic.c_str();
      info.partition = 0;
      info.opened_at_ms = span.opened_at_ms;
      info.attrs = attrs.data();
      info.attr_count = attrs.size();
      Status s = with_retries("span_empty", [&] {
        ferry_error err{};
        return PluginTask::wrap(p->sink_span_empty(plugin_.get(), &info, &err), err);
      });
      if (!s.ok()) return s;
      told_empty_.insert(span.id);
    }
  }
  // Spans the tracker forgot (retention) are forgotten here too.
  std::erase_if(told_empty_, [&](const std::string& id) { return !current.contains(id); });
  return Status::Ok();
}

}  // namespace ferry::runtime
