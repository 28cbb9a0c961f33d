#include "spans/span_ledger.hpp"

#include <random>

#include <fmt/format.h>

namespace ferry::spans {
namespace {

const char* final_name(SpanLedger::Final f) {
  switch (f) {
    case SpanLedger::Final::delivered:
      return "delivered";
    case SpanLedger::Final::failed:
      return "failed";
    case SpanLedger::Final::expired:
      return "expired";
    case SpanLedger::Final::none:
      break;
  }
  return "";
}

SpanLedger::Final final_from(const std::string& s) {
  if (s == "delivered") return SpanLedger::Final::delivered;
  if (s == "failed") return SpanLedger::Final::failed;
  if (s == "expired") return SpanLedger::Final::expired;
  return SpanLedger::Final::none;
}

nlohmann::json ranges_json(const SpanLedger::Span& s) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [topic, parts] : s.ranges)
    for (const auto& [p, r] : parts) out[topic][std::to_string(p)] = {r.first, r.second};
  return out;
}

}  // namespace

std::string new_span_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t r1 = rng(), r2 = rng();
  auto ms = static_cast<uint64_t>(now_ms()) & 0xffff'ffff'ffffULL;
  return fmt::format("{:012x}{:04x}{:016x}", ms, r1 & 0xffff, r2);
}

SpanLedger::SpanLedger(SpanPublisher& publisher, std::string connector, std::string default_topic,
                       int64_t ttl_ms, state::DurableMap& offsets,
                       std::shared_ptr<spdlog::logger> log, uint32_t task, uint32_t task_count)
    : publisher_(publisher),
      connector_(std::move(connector)),
      topic_(std::move(default_topic)),
      ttl_ms_(ttl_ms),
      task_(task),
      log_(std::move(log)) {
  // Spans that were under way when this task last stopped. Tasks of one connector
  // share the offset file, so each span records its task; spans of tasks that no
  // longer exist (the connector has fewer tasks now) go to task 0.
  offsets.for_each([&](const std::string& k, const std::string& v) {
    if (!k.starts_with(kStateKeyPrefix)) return;
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      log_->warn("ignoring unreadable span state {}", k);
      return;
    }
    auto s = std::make_unique<Span>();
    try {
      uint32_t owner = j.value("task", uint32_t{0});
      if (owner != task_ && !(owner >= task_count && task_ == 0)) return;
      s->id = k.substr(kStateKeyPrefix.size());
      s->key = j.value("key", "");
      s->attrs = j.value("attrs", nlohmann::json::object());
      s->opened_at_ms = j.value("opened_at", int64_t{0});
      s->last_seq = s->committable_seq = s->committed_seq = j.value("seq", uint64_t{0});
      s->closed = j.value("closed", false);
      s->final = final_from(j.value("final", ""));
      s->reason = j.value("reason", "");
      const nlohmann::json offsets_saved = j.value("offsets", nlohmann::json::object());
      for (const auto& [topic, parts] : offsets_saved.items())
        for (const auto& [p, r] : parts.items())
          s->ranges[topic][std::stoi(p)] = {r.at(0).get<int64_t>(), r.at(1).get<int64_t>()};
    } catch (const std::exception& e) {
      // A hand-edited or foreign state file: the span is not resumed (its records are
      // still delivered; its events are not announced), the task still starts.
      log_->warn("ignoring unreadable span state {}: {}", k, e.what());
      return;
    }
    s->dirty = false;
    s->used = false;
    Span* raw = s.get();
    if (!raw->closed) by_key_[raw->key] = raw;
    spans_[raw->id] = std::move(s);
    // A closed span was fully committed: announce its outcome (again, if the last run
    // sent it but stopped before the state was cleared).
    if (raw->closed) maybe_finish(*raw);
    if (raw->final != Final::none && !raw->final_sent) send_final(*raw);
  });
}

SpanLedger::Span* SpanLedger::create(std::string_view key, nlohmann::json attrs) {
  auto s = std::make_unique<Span>();
  s->id = new_span_id();
  s->key = std::string(key);
  s->attrs = std::move(attrs);
  s->opened_at_ms = now_ms();
  Span* raw = s.get();
  spans_[raw->id] = std::move(s);
  by_key_[raw->key] = raw;
  publisher_.publish("span.opened", raw->id,
                     {{"connector", connector_},
                      {"attrs", raw->attrs},
                      {"opened_at", format_time(raw->opened_at_ms)},
                      {"ttl_ms", ttl_ms_}});
  return raw;
}

Status SpanLedger::open(std::string_view key, nlohmann::json attrs) {
  auto it = by_key_.find(std::string(key));
  if (it != by_key_.end()) {
    last_ = it->second;  // already open, or resumed after a restart
    last_->used = true;
    return Status::Ok();
  }
  last_ = create(key, std::move(attrs));
  return Status::Ok();
}

SpanLedger::Span* SpanLedger::span_for(std::string_view key) {
  if (last_ != nullptr && last_->key == key && !last_->closed) return last_;
  auto it = by_key_.find(std::string(key));
  last_ = it != by_key_.end() ? it->second : create(key, nlohmann::json::object());
  last_->used = true;
  return last_;
}

Status SpanLedger::close(std::string_view key) {
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return Status::Ok();  // never opened, or closed already
  Span* s = it->second;
  by_key_.erase(it);
  if (last_ == s) last_ = nullptr;
  s->closed = true;
  s->dirty = true;
  publisher_.publish("span.closed", s->id, {{"connector", connector_}, {"count", s->last_seq}});
  maybe_finish(*s);
  return Status::Ok();
}

void SpanLedger::acked(Span* s, const char* topic, int32_t partition, int64_t offset) {
  --s->in_flight;
  ++s->acked;
  if (s->in_flight == 0) s->last_ack_ms = now_ms();  // the span's latest ack so far
  // `topic` comes from rd_kafka_topic_name: one stable pointer per topic handle.
  if (s->last_range != nullptr && s->last_topic == topic && s->last_partition == partition) {
    auto& r = *s->last_range;
    if (offset < r.first) r.first = offset;
    if (offset > r.second) r.second = offset;
  } else {
    auto [it, fresh] = s->ranges[topic].try_emplace(partition, offset, offset);
    if (!fresh) {
      auto& r = it->second;
      if (offset < r.first) r.first = offset;
      if (offset > r.second) r.second = offset;
    }
    s->last_topic = topic;
    s->last_partition = partition;
    s->last_range = &it->second;
  }
  if (s->in_flight == 0 && s->closed) maybe_finish(*s);
}

void SpanLedger::failed(Span* s, const std::string& reason) {
  --s->in_flight;
  ++s->failed;
  s->dirty = true;
  if (s->final != Final::none) return;
  s->final = Final::failed;
  s->reason = reason;
  send_final(*s);
}

void SpanLedger::maybe_finish(Span& s) {
  if (s.final != Final::none || !s.closed || s.in_flight != 0) return;
  s.final = Final::delivered;
  s.dirty = true;
  send_final(s);
}

void SpanLedger::send_final(Span& s) {
  nlohmann::json e{{"connector", connector_}};
  const char* type = "";
  switch (s.final) {
    case Final::delivered:
      type = "span.delivered";
      e["count"] = s.last_seq;
      e["offsets"] = ranges_json(s);
      {
        nlohmann::json topics = nlohmann::json::array({topic_});
        for (const auto& [t, parts] : s.ranges)
          if (t != topic_) topics.push_back(t);
        e["topics"] = topics;
      }
      e["opened_at"] = format_time(s.opened_at_ms);
      e["interval_ms"] = now_ms() - s.opened_at_ms;
      if (s.last_ack_ms > 0) e["acked_at"] = format_time(s.last_ack_ms);
      e["ttl_ms"] = ttl_ms_;
      e["attrs"] = s.attrs;
      break;
    case Final::failed:
      type = "span.failed";
      e["reason"] = s.reason;
      e["delivered"] = s.acked;
      e["failed"] = s.failed;
      break;
    case Final::expired:
      type = "span.expired";
      e["missing"] = {{"unacked_records", s.in_flight}, {"closed", s.closed}};
      e["count"] = s.last_seq;
      break;
    case Final::none:
      return;
  }
  s.final_sent = true;
  std::weak_ptr<Inbox> inbox = inbox_;
  publisher_.publish(type, s.id, std::move(e), [inbox, id = s.id](bool ok, const std::string&) {
    if (auto in = inbox.lock()) {
      std::lock_guard lock(in->mu);
      in->acks.emplace_back(id, ok);
    }
  });
}

void SpanLedger::tick() {
  int64_t now = now_ms();
  {
    std::vector<std::pair<std::string, bool>> acks;
    {
      std::lock_guard lock(inbox_->mu);
      acks.swap(inbox_->acks);
    }
    for (const auto& [id, ok] : acks) {
      auto it = spans_.find(id);
      if (it == spans_.end()) continue;
      if (ok) {
        it->second->final_acked = true;
        it->second->dirty = true;
      } else {
        it->second->final_sent = false;  // sent again below
      }
    }
  }
  if (now < next_tick_ms_) return;
  next_tick_ms_ = now + 100;
  for (auto& [id, s] : spans_) {
    if (s->final == Final::none && ttl_ms_ > 0 && now - s->opened_at_ms > ttl_ms_) {
      s->final = Final::expired;
      s->dirty = true;
      log_->warn("span {} expired after {} ms with {} record(s) unacknowledged{}", s->id, ttl_ms_,
                 s->in_flight, s->closed ? "" : ", still open");
    }
    if (s->final != Final::none && !s->final_sent) send_final(*s);
  }
}

nlohmann::json SpanLedger::state_json(const Span& s) const {
  nlohmann::json j{{"key", s.key},
                   {"task", task_},
                   {"attrs", s.attrs},
                   {"opened_at", s.opened_at_ms},
                   {"seq", s.committed_seq},
                   {"closed", s.closed && s.committed_seq == s.last_seq},
                   {"offsets", ranges_json(s)}};
  if (s.final != Final::none) {
    j["final"] = final_name(s.final);
    if (!s.reason.empty()) j["reason"] = s.reason;
  }
  return j;
}

std::map<std::string, std::optional<std::string>> SpanLedger::take_changes() {
  std::map<std::string, std::optional<std::string>> out;
  for (auto it = spans_.begin(); it != spans_.end();) {
    Span& s = *it->second;
    if (!s.dirty) {
      ++it;
      continue;
    }
    s.dirty = false;
    s.committed_seq = s.committable_seq;
    std::string key = std::string(kStateKeyPrefix) + s.id;
    bool all_committed = s.committed_seq == s.last_seq && s.in_flight == 0;
    // A span left open by an earlier run whose source never came back for it (a file
    // deleted while ferry was down) ends when its expiry is announced.
    bool abandoned = !s.used && s.final != Final::none && s.final_acked;
    if ((s.closed && all_committed && s.final_acked) || abandoned) {
      // Announced and every record's offset committed: nothing left to resume.
      out[key] = std::nullopt;
      if (last_ == &s) last_ = nullptr;
      if (auto k = by_key_.find(s.key); k != by_key_.end() && k->second == &s) by_key_.erase(k);
      it = spans_.erase(it);
      continue;
    }
    out[key] = state_json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    ++it;
  }
  return out;
}

}  // namespace ferry::spans
