#include "spans/span_tracker.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "common/logging.hpp"
#include "kafka/client_config.hpp"
#include "kafka/topic_admin.hpp"
#include "kafka/watermarks.hpp"

namespace ferry::spans {
namespace {

SpanOffsets offsets_from(const nlohmann::json& j) {
  SpanOffsets out;
  if (!j.is_object()) return out;
  for (const auto& [topic, parts] : j.items()) {
    if (!parts.is_object()) continue;
    for (const auto& [p, r] : parts.items()) {
      if (!r.is_array() || r.size() != 2) continue;
      out[topic][std::atoi(p.c_str())] = {r[0].get<int64_t>(), r[1].get<int64_t>()};
    }
  }
  return out;
}

nlohmann::json offsets_json(const SpanOffsets& o) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [topic, parts] : o)
    for (const auto& [p, r] : parts) out[topic][std::to_string(p)] = {r.first, r.second};
  return out;
}

}  // namespace

int64_t parse_time(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

SpanTracker::SpanTracker(Settings settings, SpanPublisher& publisher)
    : settings_(std::move(settings)), publisher_(publisher), log_(logging::get("spans")) {}

std::unique_ptr<SpanTracker> SpanTracker::start(Settings settings, SpanPublisher& publisher,
                                                std::string& error) {
  std::unique_ptr<SpanTracker> t(new SpanTracker(std::move(settings), publisher));
  if (!t->create_clients(error)) return nullptr;
  if (publisher.topic() == t->settings_.topic)
    publisher.set_listener([raw = t.get()](int32_t partition, std::string_view value) {
      raw->learn(partition, value);
    });
  // The span topic must exist with its partitions and LogAppendTime before sources
  // publish span events, or the broker auto-creates it with its own defaults: the
  // usual case (broker up) settles it here, in one metadata round trip when the topic
  // exists. With the broker unreachable ferry starts anyway and the tracker keeps
  // trying in the background (before, it gave up after ~10 s and tracked nothing).
  std::string first_error;
  bool attached = t->attach(first_error, 2000);
  if (!attached) t->log_->error("{}; retrying in the background", first_error);
  t->thread_ = std::thread([raw = t.get(), attached] {
    if (attached || raw->attach_until_stopped()) raw->run();
  });
  return t;
}

SpanTracker::~SpanTracker() {
  if (publisher_.topic() == settings_.topic) publisher_.set_listener({});
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  // Revoking flushes our events first; a held-up rebalance must not hold up shutdown.
  if (!kafka::close_consumer(owner_, 10'000,
                             [this](rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t* parts) {
                               on_rebalance(e, parts);
                             }))
    log_->warn("left the span tracker group without waiting for it (a rebalance is held up)");
  kafka::close_consumer(reader_, 2'000);
  group_clients_.clear();
}

void SpanTracker::run() {
  auto next_check = std::chrono::steady_clock::now();
  // Forgetting is checked a few times per retention period, at most once a minute.
  auto gc_every =
      std::chrono::milliseconds(std::clamp<int64_t>(settings_.retention_ms / 4, 500, 60'000));
  auto next_gc = next_check + gc_every;
  auto next_cap_check = next_check;
  while (!stop_.load()) {
    for (int i = 0; i < 1000; ++i) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(reader_.get(), i == 0 ? 50 : 0));
      if (!m) break;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          log_->warn("span topic: {}", rd_kafka_message_errstr(m.get()));
        continue;
      }
      auto j = nlohmann::json::parse(static_cast<const char*>(m->payload),
                                     static_cast<const char*>(m->payload) + m->len, nullptr, false);
      std::lock_guard lock(mu_);
      read_upto_[m->partition] = m->offset + 1;
      if (!j.is_object()) continue;
      try {
        apply(m->partition, j);
      } catch (const std::exception& e) {
        // Anyone can write to the span topic; a field of the wrong type skips the event.
        log_->warn("span topic: ignoring event at [{}]@{}: {}", m->partition, m->offset, e.what());
      }
    }
    kafka::MessagePtr ignored(rd_kafka_consumer_poll(owner_.get(), 0));
    auto now = std::chrono::steady_clock::now();
    if (now >= next_check) {
      learn_unknown_ends();
      check_completion();
      next_check = now + std::chrono::milliseconds(200);
    }
    if (now >= next_cap_check) {
      std::lock_guard lock(mu_);
      forget_oldest_finished();
      next_cap_check = now + std::chrono::seconds(1);
    }
    if (now >= next_gc) {
      collect_garbage();
      next_gc = now + gc_every;
    }
  }
}

void SpanTracker::learn(int32_t partition, std::string_view value) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object()) return;
  // What sources announce. span.completed / span.expired come from trackers, whose
  // "announced but not read back" bookkeeping waits for the reader.
  const std::string type = j.value("type", "");
  if (type != "span.opened" && type != "span.closed" && type != "span.delivered" &&
      type != "span.failed")
    return;
  std::lock_guard lock(mu_);
  apply(partition, j);  // the reader applies it again later: every step is idempotent
}

void SpanTracker::apply(int32_t partition, const nlohmann::json& e) {
  std::string id = e.value("span", "");
  std::string type = e.value("type", "");
  if (type == "host.sinks") {
    auto& groups = host_sink_groups_[e.value("instance", e.value("host", ""))];
    groups.clear();
    if (const auto& g = e.value("groups", nlohmann::json::object()); g.is_object())
      for (const auto& [group, topics] : g.items())
        if (topics.is_array())
          for (const auto& t : topics)
            if (t.is_string()) groups[group].push_back(t.get<std::string>());
    return;
  }
  if (id.empty() || type.empty()) return;
  if (const char* why = refusal(id, type, e)) {
    // Anyone who can write the span topic could otherwise make up spans, or end a real
    // one early (a per-span sink would publish it before its last record). Logged
    // sparingly: a flood of forged events must not flood the log too.
    if (std::has_single_bit(++refused_events_))
      log_->warn("span topic: ignored {} for span {}: {} ({} such event(s) so far)", type, id, why,
                 refused_events_);
    return;
  }
  Span& s = spans_[id];
  s.id = id;
  s.partition = partition;
  s.last_event_ms = now_ms();
  if (s.connector.empty()) s.connector = e.value("connector", "");
  if (type == "span.opened" || type == "span.delivered") {
    if (s.host.empty()) s.host = e.value("host", "");
    if (auto a = e.find("attrs"); a != e.end() && a->is_object()) s.attrs = a->dump();
    if (int64_t t = parse_time(e.value("opened_at", "")); t > 0) s.opened_at_ms = t;
    s.ttl_ms = e.value("ttl_ms", s.ttl_ms);
  }
  if (type == "span.closed") {
    s.closed = true;
    s.count = e.value("count", s.count);
  } else if (type == "span.delivered") {
    s.closed = s.delivered = true;
    s.count = e.value("count", s.count);
    if (s.delivered_at_ms == 0) {
      s.delivered_at_ms = parse_time(e.value("at", ""));
      if (s.opened_at_ms > 0 && s.delivered_at_ms >= s.opened_at_ms)
        delivery_latency_[s.connector].observe(
            static_cast<double>(s.delivered_at_ms - s.opened_at_ms) / 1000.0);
    }
    // A span announced twice (a source restarted before saving that it had) may have
    // records at more offsets the second time: completion needs them all.
    if (const auto& t = e.value("topics", nlohmann::json::array()); t.is_array())
      for (const auto& topic : t)
        if (topic.is_string()) s.topics.insert(topic.get<std::string>());
    for (const auto& [topic, parts] : offsets_from(e.value("offsets", nlohmann::json()))) {
      s.topics.insert(topic);
      for (const auto& [p, r] : parts) {
        auto [it, fresh] = s.offsets[topic].try_emplace(p, r);
        if (!fresh) {
          it->second.first = std::min(it->second.first, r.first);
          it->second.second = std::max(it->second.second, r.second);
        }
      }
    }
  } else if (type == "span.completed") {
    std::string group = e.value("group", "");
    s.completing.erase(group);
    int64_t at = parse_time(e.value("completed_at", ""));
    if (s.completed.emplace(group, at).second && s.opened_at_ms > 0) {
      if (at >= s.opened_at_ms)
        completion_latency_[s.connector].observe(static_cast<double>(at - s.opened_at_ms) / 1000.0);
    }
  } else if (type == "span.error") {
    s.errors[e.value("group", "")].insert(e.value("seq", uint64_t{0}));
  } else if (type == "span.failed") {
    s.failed = true;
    s.reason = e.value("reason", "");
  } else if (type == "span.expired") {
    s.expired = true;
    s.expiring = false;
  }
}

const char* SpanTracker::refusal(const std::string& id, const std::string& type,
                                 const nlohmann::json& e) const {
  auto it = spans_.find(id);
  if (it == spans_.end())
    return type == "span.opened" ? nullptr : "no ferry source opened this span";
  const Span& s = it->second;
  // What only the source that opened the span says: the same host and connector.
  bool from_source = type == "span.opened" || type == "span.closed" || type == "span.delivered" ||
                     type == "span.failed";
  if (!from_source) return nullptr;
  if (!s.host.empty() && e.value("host", "") != s.host)
    return "it names another host than the span.opened";
  if (!s.connector.empty() && e.value("connector", "") != s.connector)
    return "it names another connector than the span.opened";
  return nullptr;
}

void SpanTracker::learn_unknown_ends() {
  std::vector<int32_t> unknown;
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, end] : owned_)
      if (end == kUnknownEnd) unknown.push_back(p);
  }
  for (int32_t p : unknown) {
    int64_t lo = 0, hi = 0;
    if (kafka::query_watermarks(reader_.get(), settings_.topic, p, lo, hi, 1000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    std::lock_guard lock(mu_);
    // Only if still ours and still unknown: a rebalance meanwhile may have set it afresh.
    if (auto it = owned_.find(p); it != owned_.end() && it->second == kUnknownEnd) {
      it->second = hi;
      log_->info("span topic partition {}: end offset {}", p, hi);
    }
  }
}

bool SpanTracker::ready(int32_t partition) const {
  auto it = owned_.find(partition);
  if (it == owned_.end()) return false;
  auto r = read_upto_.find(partition);
  int64_t upto = r == read_upto_.end() ? 0 : r->second;
  return upto >= it->second;
}

std::set<std::string> SpanTracker::groups_for(const Span& s) const {
  std::set<std::string> groups(settings_.watch_groups.begin(), settings_.watch_groups.end());
  auto add = [&](const std::map<std::string, std::vector<std::string>>& sinks) {
    for (const auto& [group, topics] : sinks)
      for (const auto& t : topics)
        if (s.topics.contains(t)) groups.insert(group);
  };
  add(sink_groups_);
  for (const auto& [host, sinks] : host_sink_groups_) add(sinks);
  return groups;
}

std::map<std::pair<std::string, int32_t>, int64_t> SpanTracker::committed(
    const std::string& group, const std::set<std::pair<std::string, int32_t>>& tps) {
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  auto& client = group_clients_[group];
  if (!client) {
    // A client that names the group but never joins it: it can read the group's
    // committed offsets without disturbing its members.
    std::string error;
    std::vector<config::KafkaProperties> all{kafka::consumer_defaults(group)};
    all.insert(all.end(), settings_.kafka.begin(), settings_.kafka.end());
    all.push_back({{"client.id", "ferry-span-tracker"}});
    auto conf = kafka::make_conf(all, error);
    if (conf) client = kafka::new_client(RD_KAFKA_CONSUMER, conf, error);
    if (!client) {
      log_->warn("cannot read committed offsets of group {}: {}", group, error);
      return out;
    }
  }
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& [t, p] : tps) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), p);
  auto started = std::chrono::steady_clock::now();
  auto e = rd_kafka_committed(client.get(), list.get(), 5000);
  log_->debug("committed offsets of {} ({} partition(s)) read in {} ms", group, tps.size(),
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log_->debug("committed offsets of {}: {}", group, rd_kafka_err2str(e));
    return out;
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& el = list->elems[i];
    if (el.err == RD_KAFKA_RESP_ERR_NO_ERROR && el.offset >= 0)
      out[{el.topic, el.partition}] = el.offset;
  }
  return out;
}

void SpanTracker::check_completion() {
  struct Candidate {
    std::string id;
    SpanOffsets offsets;
    std::set<std::string> groups;
  };
  std::vector<Candidate> candidates;
  std::map<std::string, std::set<std::pair<std::string, int32_t>>> need;
  std::vector<std::pair<std::string, nlohmann::json>> expire;
  int64_t now = now_ms();
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : spans_) {
      if (!s.delivered || s.failed || s.expired || !ready(s.partition)) continue;
      Candidate c{id, s.offsets, {}};
      for (const auto& g : groups_for(s))
        if (!s.completed.contains(g) && !s.completing.contains(g)) c.groups.insert(g);
      if (c.groups.empty()) continue;
      if (s.ttl_ms > 0 && s.opened_at_ms > 0 && now - s.opened_at_ms > s.ttl_ms) {
        if (!s.expiring) {
          s.expiring = true;
          expire.emplace_back(id, nlohmann::json{{"connector", s.connector},
                                                 {"missing", {{"groups", c.groups}}},
                                                 {"count", s.count}});
        }
        continue;
      }
      for (const auto& g : c.groups)
        for (const auto& [topic, parts] : s.offsets)
          for (const auto& [p, r] : parts) need[g].insert({topic, p});
      candidates.push_back(std::move(c));
    }
  }
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> committed_by_group;
  for (const auto& [g, tps] : need)
    if (!tps.empty()) committed_by_group[g] = committed(g, tps);

  std::vector<std::pair<std::string, nlohmann::json>> completions;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : candidates) {
      auto it = spans_.find(c.id);
      if (it == spans_.end()) continue;
      Span& s = it->second;
      for (const auto& g : c.groups) {
        const auto& committed = committed_by_group[g];
        bool done = true;
        for (const auto& [topic, parts] : c.offsets)
          for (const auto& [p, r] : parts) {
            auto o = committed.find({topic, p});
            if (o == committed.end() || o->second <= r.second) done = false;
          }
        if (!done || s.completed.contains(g) || s.completing.contains(g)) continue;
        s.completing.insert(g);
        completions.emplace_back(
            c.id, nlohmann::json{{"connector", s.connector},
                                 {"group", g},
                                 {"count", s.count},
                                 {"errors", errors_of(s, g)},
                                 {"opened_at", format_time(s.opened_at_ms)},
                                 {"completed_at", format_time(now)},
                                 {"interval_ms", s.opened_at_ms > 0 ? now - s.opened_at_ms : 0}});
      }
    }
  }
  // Published without the lock: a refused event calls back synchronously.
  for (auto& [id, event] : completions) {
    std::string group = event["group"];
    publisher_.publish("span.completed", id, std::move(event),
                       // A copy, not the binding: clang 14 cannot capture bindings.
                       [this, span = id, group](bool ok, const std::string&) {
                         if (ok) return;
                         std::lock_guard lock(mu_);
                         if (auto it = spans_.find(span); it != spans_.end())
                           it->second.completing.erase(group);  // try again
                       });
  }
  for (auto& [id, event] : expire) {
    log_->warn("span {} expired before every group completed it", id);
    publisher_.publish("span.expired", id, std::move(event),
                       [this, span = id](bool ok, const std::string&) {
                         if (ok) return;
                         std::lock_guard lock(mu_);
                         if (auto it = spans_.find(span); it != spans_.end())
                           it->second.expiring = false;
                       });
  }
}

std::string SpanTracker::state_of(const Span& s, const std::set<std::string>& groups) {
  if (s.failed) return "failed";
  if (s.expired) return "expired";
  if (!s.delivered) return "open";
  for (const auto& g : groups)
    if (!s.completed.contains(g)) return "delivered";
  return "completed";
}

void SpanTracker::collect_garbage() {
  std::lock_guard lock(mu_);
  if (settings_.retention_ms <= 0) {
    forget_oldest_finished();
    return;
  }
  int64_t cutoff = now_ms() - settings_.retention_ms;
  size_t before = spans_.size();
  std::erase_if(spans_, [&](const auto& kv) { return kv.second.last_event_ms < cutoff; });
  if (spans_.size() != before)
    log_->info("forgot {} span(s) with no event for {} ms", before - spans_.size(),
               settings_.retention_ms);
  forget_oldest_finished();
}

void SpanTracker::forget_oldest_finished() {
  if (settings_.max_finished == 0 || spans_.size() <= settings_.max_finished) return;
  std::vector<std::pair<int64_t, const std::string*>> finished;
  for (const auto& [id, s] : spans_) {
    std::string state = state_of(s, groups_for(s));
    if (state != "open" && state != "delivered") finished.emplace_back(s.last_event_ms, &id);
  }
  if (finished.size() <= settings_.max_finished) return;
  // Down to 90 %: the scan above is not repeated for every span that finishes.
  size_t excess = finished.size() - settings_.max_finished * 9 / 10;
  std::nth_element(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(excess),
                   finished.end());
  std::vector<std::string> gone;
  for (size_t i = 0; i < excess; ++i) gone.push_back(*finished[i].second);
  for (const auto& id : gone) spans_.erase(id);
  forgotten_early_ += excess;
  if (std::has_single_bit(++early_forgettings_))
    log_->info("more than max_finished ({}) finished spans: forgot the oldest {} ({} so far)",
               settings_.max_finished, excess, forgotten_early_);
}

void SpanTracker::set_sink_groups(std::map<std::string, std::vector<std::string>> groups) {
  nlohmann::json announce = nlohmann::json::object();
  for (const auto& [g, topics] : groups) announce[g] = topics;
  {
    std::lock_guard lock(mu_);
    sink_groups_ = std::move(groups);
  }
  publisher_.publish("host.sinks", "host:" + settings_.instance,
                     {{"groups", announce}, {"instance", settings_.instance}});
}

std::optional<SpanOffsets> SpanTracker::delivered_offsets(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = spans_.find(id);
  if (it == spans_.end() || !it->second.delivered) return std::nullopt;
  return it->second.offsets;
}

std::vector<SpanTracker::EmptySpan> SpanTracker::empty_delivered(const std::string& topic) const {
  std::lock_guard lock(mu_);
  std::vector<EmptySpan> out;
  for (const auto& [id, s] : spans_)
    if (s.delivered && s.count == 0 && !s.failed && s.topics.contains(topic))
      out.push_back({id, nlohmann::json::parse(s.attrs, nullptr, false), s.opened_at_ms});
  return out;
}

nlohmann::json SpanTracker::to_json(const Span& s) const {
  auto groups = groups_for(s);
  nlohmann::json j{{"span", s.id},
                   {"state", state_of(s, groups)},
                   {"connector", s.connector},
                   {"host", s.host},
                   {"attrs", nlohmann::json::parse(s.attrs, nullptr, false)},
                   {"count", s.count},
                   {"closed", s.closed},
                   {"offsets", offsets_json(s.offsets)}};
  if (s.opened_at_ms > 0) j["opened_at"] = format_time(s.opened_at_ms);
  if (s.delivered_at_ms > 0) j["delivered_at"] = format_time(s.delivered_at_ms);
  nlohmann::json completed = nlohmann::json::object();
  for (const auto& [g, at] : s.completed) completed[g] = at > 0 ? format_time(at) : "";
  j["completed"] = completed;
  nlohmann::json pending = nlohmann::json::array();
  for (const auto& g : groups)
    if (!s.completed.contains(g)) pending.push_back(g);
  j["pending_groups"] = pending;
  if (!s.reason.empty()) j["reason"] = s.reason;
  return j;
}

std::optional<nlohmann::json> SpanTracker::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = spans_.find(id);
  if (it == spans_.end()) return std::nullopt;
  return to_json(it->second);
}

std::vector<nlohmann::json> SpanTracker::list(const std::string& state) const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& [id, s] : spans_) {
    if (!state.empty() && state_of(s, groups_for(s)) != state) continue;
    out.push_back(to_json(s));
  }
  return out;
}

SpanTracker::Stats SpanTracker::stats() const {
  std::lock_guard lock(mu_);
  Stats out;
  for (const auto& [id, s] : spans_) ++out.by_state[{s.connector, state_of(s, groups_for(s))}];
  out.delivery_latency = delivery_latency_;
  out.completion_latency = completion_latency_;
  return out;
}

}  // namespace ferry::spans
