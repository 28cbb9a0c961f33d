// sensors: readings from Linux hwmon/thermal sysfs, from MQTT devices, or from a
// deterministic simulator, as JSON records keyed by host + sensor, with one span per
// device per time window.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ferry/sdk.hpp"
#include "hwmon_reader.hpp"
#include "mqtt_client.hpp"
#include "mqtt_payload.hpp"
#include "reading.hpp"
#include "simulated_walk.hpp"
#include "window_spans.hpp"

namespace ferry::sensors {
namespace {

constexpr ferry_option kOptions[] = {
    opt::one_of("driver", "hwmon|mqtt|simulated", nullptr,
                "hwmon: this machine's /sys/class/hwmon and thermal zones; mqtt: readings "
                "published by devices; simulated: a deterministic generator",
                opt::kRequired),
    opt::duration("interval", "10s", "hwmon, simulated: time between two readings of a sensor", 10,
                  86'400'000),
    opt::duration("window", "1m", "Span length: one span per device per window", 1000, 86'400'000),
    opt::duration("window_grace", "0s",
                  "How long after a window ends its span stays open for late readings", 0,
                  3'600'000),
    opt::string("host", "", "The host field and key prefix (default: this machine's hostname)"),
    opt::string("sysfs_root", "/sys", "hwmon: where sysfs is mounted (tests use a fake tree)"),
    opt::string("url", "mqtt://127.0.0.1:1883", "mqtt: broker, mqtt://host[:port] or mqtts://"),
    opt::list("topics", nullptr, "mqtt: topic filters to subscribe to; + and # wildcards"),
    opt::integer("qos", "1", "mqtt: subscription QoS (0 or 1)", 0, 1),
    opt::string("client_id", "",
                "mqtt: client id; when set, the session is persistent and the broker keeps "
                "QoS 1 messages for ferry while it is down"),
    opt::one_of("session", "auto|clean|persistent", "auto",
                "mqtt: auto = persistent when client_id is set"),
    opt::string("username", "", "mqtt: user name"),
    opt::string("password", "", "mqtt: password", opt::kSecret),
    opt::string("tls_ca", "", "mqtts: CA file (default: the system's CAs)"),
    opt::string("tls_cert", "", "mqtts: client certificate file"),
    opt::string("tls_key", "", "mqtts: client key file"),
    opt::boolean("tls_insecure", "false", "mqtts: do not check the broker's host name"),
    opt::one_of("payload_format", "auto|json|number", "auto",
                "mqtt: JSON objects, plain numbers, or auto (JSON when it starts with {)"),
    opt::string("value_field", "value", "mqtt JSON: field with the value (a.b for nested)"),
    opt::string("time_field", "",
                "mqtt JSON: field with the reading's time (epoch s or ms, or ISO-8601); empty "
                "= time of receipt"),
    opt::string("unit_field", "unit", "mqtt JSON: field with the unit"),
    opt::string("unit", "", "mqtt: unit when the payload has none"),
    opt::list("topic_tags", nullptr,
              "mqtt: topic layouts, e.g. \"_/site/device/measurement\": segment names device, "
              "sensor, measurement, host, _ (skip), anything else becomes a tag"),
    opt::size("max_payload_bytes", "64KiB",
              "mqtt: larger payloads are bad input (dead letter topic); more than 64 KiB "
              "larger ones are not even read",
              16, 256 << 20),
    opt::one_of("acknowledge", "delivered|received", "delivered",
                "mqtt: when a QoS 1 message is acknowledged to the broker. delivered: once "
                "Kafka has its record, so a crash loses nothing of a persistent session (a "
                "broker that enforces an in-flight window then bounds the rate by it); "
                "received: on arrival, but what ferry holds is lost if it is killed"),
    opt::integer("max_pending", "10000",
                 "mqtt: messages held between the MQTT broker and Kafka; when full, the "
                 "broker is made to wait",
                 16, 10'000'000),
    opt::integer("devices", "4", "simulated: number of devices", 1, 1'000'000),
    opt::integer("sensors", "3", "simulated: sensors per device", 1, 1000),
    opt::integer("seed", "1", "simulated: random seed; the same seed gives the same values", 0,
                 9e15),
    opt::integer("rate", "0",
                 "simulated: readings per second over all sensors; 0 = every sensor once "
                 "per interval",
                 0, 1e9),
    opt::integer("limit", "0", "simulated: stop after this many readings (0 = never)", 0, 9e15),
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

class SensorsSource final : public SourceTask {
 public:
  SensorsSource(const Host& host, const Config& cfg)
      : host_(host),
        cfg_(cfg),
        driver_(cfg.str("driver")),
        interval_ms_(cfg.duration("interval").count()),
        host_name_(cfg.str("host").empty() ? hostname() : cfg.str("host")),
        spans_enabled_(cfg.boolean("span.enabled")),
        windows_(cfg.duration("window").count(), cfg.duration("window_grace").count()) {}

  static Status validate(const Config& cfg) {
    std::string driver = cfg.str("driver");
    if (driver == "mqtt") {
      if (cfg.list("topics").empty())
        return Status::Config("driver \"mqtt\" needs topics, e.g. topics = [\"sensors/#\"]");
      MqttSettings s;
      if (std::string e = parse_mqtt_url(cfg.str("url"), s); !e.empty()) return Status::Config(e);
      if (cfg.str("session") == "persistent" && cfg.str("client_id").empty())
        return Status::Config("session = \"persistent\" needs a client_id");
    }
    return Status::Ok();
  }

  Status start() override {
    if (driver_ == "mqtt") return start_mqtt();
    if (driver_ == "simulated") {
      auto devices = static_cast<uint32_t>(cfg_.integer("devices"));
      auto sensors = static_cast<uint32_t>(cfg_.integer("sensors"));
      sim_ = std::make_unique<SimulatedWalk>(static_cast<uint64_t>(cfg_.integer("seed")), devices,
                                             sensors);
      host_.committed_offsets([&](std::string_view p, std::string_view o) {
        if (p == kSimPartition) sim_->skip_to(std::strtoull(std::string(o).c_str(), nullptr, 10));
      });
      rate_ = static_cast<double>(cfg_.integer("rate"));
      limit_ = static_cast<uint64_t>(cfg_.integer("limit"));
      sim_started_ = std::chrono::steady_clock::now();
      sim_base_step_ = sim_->step();
      host_.info("simulating " + std::to_string(devices) + " devices x " + std::to_string(sensors) +
                 " sensors from step " + std::to_string(sim_->step()));
      return Status::Ok();
    }
    host_.info("reading hwmon and thermal sensors under " + cfg_.str("sysfs_root") + " every " +
               std::to_string(interval_ms_) + " ms");
    return Status::Ok();
  }

  Status poll(uint32_t max_records) override {
    int64_t now = wall_ms();
    if (Status s = close_windows(now); !s.ok()) return s;
    if (driver_ == "mqtt") return poll_mqtt(max_records);
    if (driver_ == "simulated") return poll_simulated(max_records, now);
    return poll_hwmon(now);
  }

  void stop() override {
    if (!mqtt_) return;
    // Held acknowledgements still have to reach the broker once Kafka has the records.
    if (ack_after_delivery_)
      mqtt_->stop_reading();
    else
      mqtt_->stop();
  }

  void delivered(std::string_view partition, std::string_view offset) override {
    if (!mqtt_ || !partition.empty()) return;
    uint64_t seq = 0;
    auto [end, ec] = std::from_chars(offset.data(), offset.data() + offset.size(), seq);
    if (ec == std::errc() && end == offset.data() + offset.size()) mqtt_->acknowledge_through(seq);
  }

 private:
  static constexpr const char* kSimPartition = "simulated";

  Status close_windows(int64_t now) {
    if (!spans_enabled_) return Status::Ok();
    for (const auto& w : windows_.due(now))
      if (Status s = host_.span_close(w.key); !s.ok()) return s;
    return Status::Ok();
  }

  // Emits one reading; `partition`/`offset` are the simulator's resume position.
  Status emit(const Reading& r, const std::string& host_name, std::string_view partition = {},
              std::string_view offset = {}) {
    std::string value = reading_json(r, host_name);
    std::string key = reading_key(r, host_name);
    SourceRecord rec;
    rec.key = key;
    rec.value = value;
    rec.timestamp_ms = r.ts_ms;
    rec.source_partition = partition;
    rec.source_offset = offset;
    std::string span;
    if (spans_enabled_) {
      bool opened = false;
      span = windows_.assign(r.device, r.ts_ms, opened);
      if (opened) {
        std::string start = iso_time(WindowSpans::floor_div(r.ts_ms, window_ms()) * window_ms());
        std::string end =
            iso_time(WindowSpans::floor_div(r.ts_ms, window_ms()) * window_ms() + window_ms());
        if (Status s = host_.span_open(span, {{"device", r.device},
                                              {"host", host_name},
                                              {"window_start", start},
                                              {"window_end", end}});
            !s.ok())
          return s;
      } else if (span.empty()) {
        host_.count("late_readings");
      }
      rec.span = span;
    }
    return host_.emit(rec);
  }
  int64_t window_ms() const { return cfg_.duration("window").count(); }

  // ---- hwmon ----
  Status poll_hwmon(int64_t now) {
    auto steady = std::chrono::steady_clock::now();
    if (steady < next_read_) return Status::Ok();
    next_read_ = steady + std::chrono::milliseconds(interval_ms_);
    HwmonScan scan = read_hwmon(cfg_.str("sysfs_root"), now);
    std::set<std::string> failing;
    for (const auto& e : scan.errors) {
      failing.insert(e.path);
      if (!failing_.contains(e.path))
        host_.warn("cannot read sensor " + e.path + ": " + e.message +
                   " (skipped; will retry every interval)");
    }
    for (const auto& p : failing_)
      if (!failing.contains(p)) host_.info("sensor " + p + " is readable again");
    failing_ = std::move(failing);
    if (!scan.errors.empty()) host_.count("sensor_read_errors", double(scan.errors.size()));
    if (scan.readings.empty() && scan.errors.empty()) {
      if (!warned_empty_)
        host_.warn("no hwmon or thermal sensors under " + cfg_.str("sysfs_root") +
                   "/class/{hwmon,thermal}; nothing to read (will look again every interval)");
      warned_empty_ = true;
    } else {
      warned_empty_ = false;
    }
    host_.gauge("sensors", static_cast<double>(scan.readings.size()));
    for (const auto& r : scan.readings)
      if (Status s = emit(r, host_name_); !s.ok()) return s;
    return Status::Ok();
  }

  // ---- simulated ----
  Status poll_simulated(uint32_t max_records, int64_t now) {
    if (limit_ > 0 && sim_->step() >= limit_) return Status::Ok();
    uint64_t allowed = max_records;
    auto steady = std::chrono::steady_clock::now();
    if (rate_ > 0) {
      double elapsed = std::chrono::duration<double>(steady - sim_started_).count();
      auto due = static_cast<uint64_t>(elapsed * rate_) + sim_base_step_ + 1;
      allowed = due > sim_->step() ? std::min<uint64_t>(due - sim_->step(), max_records) : 0;
    } else {
      // Every sensor once per interval: a round of N x M readings, then wait.
      if (round_left_ == 0) {
        if (steady < next_read_) return Status::Ok();
        next_read_ = steady + std::chrono::milliseconds(interval_ms_);
        round_left_ = sim_->size();
      }
      allowed = std::min<uint64_t>(round_left_, max_records);
      round_left_ -= allowed;
    }
    if (limit_ > 0) allowed = std::min<uint64_t>(allowed, limit_ - sim_->step());
    for (uint64_t i = 0; i < allowed; ++i) {
      Reading r = sim_->next(now);
      std::string offset = std::to_string(sim_->step());
      if (Status s = emit(r, host_name_, kSimPartition, offset); !s.ok()) return s;
    }
    if (limit_ > 0 && sim_->step() >= limit_ && !limit_logged_) {
      host_.info("simulated " + std::to_string(limit_) + " readings (limit reached)");
      limit_logged_ = true;
    }
    return Status::Ok();
  }

  // ---- mqtt ----
  Status start_mqtt() {
    MqttSettings s;
    if (std::string e = parse_mqtt_url(cfg_.str("url"), s); !e.empty()) return Status::Config(e);
    s.ca_file = cfg_.str("tls_ca");
    s.cert_file = cfg_.str("tls_cert");
    s.key_file = cfg_.str("tls_key");
    s.tls_insecure = cfg_.boolean("tls_insecure");
    s.username = cfg_.str("username");
    s.password = cfg_.str("password");
    s.client_id = cfg_.str("client_id");
    std::string session = cfg_.str("session");
    s.clean_session = session == "clean" || (session == "auto" && s.client_id.empty());
    s.topics = cfg_.list("topics");
    s.qos = static_cast<int>(cfg_.integer("qos"));
    s.max_pending = static_cast<size_t>(cfg_.integer("max_pending"));
    s.max_payload_bytes = cfg_.size("max_payload_bytes");
    ack_after_delivery_ = cfg_.str("acknowledge") == "delivered";
    s.ack_after_delivery = ack_after_delivery_;

    std::string fmt = cfg_.str("payload_format");
    payload_.format = fmt == "json"     ? PayloadFormat::kJson
                      : fmt == "number" ? PayloadFormat::kNumber
                                        : PayloadFormat::kAuto;
    payload_.value_field = cfg_.str("value_field");
    payload_.time_field = cfg_.str("time_field");
    payload_.unit_field = cfg_.str("unit_field");
    payload_.unit = cfg_.str("unit");
    payload_.max_bytes = cfg_.size("max_payload_bytes");
    for (const auto& layout : cfg_.list("topic_tags"))
      if (!layout.empty()) payload_.layouts.push_back(split_topic(layout));

    std::string where = s.host + ":" + std::to_string(s.port);
    bool persistent = !s.clean_session;
    mqtt_ = std::make_unique<MqttClient>(std::move(s));
    if (std::string e = mqtt_->start(); !e.empty()) return Status::Config(e);
    host_.info("subscribing to " + std::to_string(cfg_.list("topics").size()) +
               " topic filter(s) on " + where +
               (persistent ? " with a persistent session" : " with a clean session"));
    return Status::Ok();
  }

  Status poll_mqtt(uint32_t max_records) {
    for (auto& e : mqtt_->take_events()) {
      if (e.level == MqttEvent::Level::kInfo)
        host_.info(e.text);
      else if (e.level == MqttEvent::Level::kWarn)
        host_.warn(e.text);
      else
        host_.error(e.text);
    }
    batch_.clear();
    mqtt_->drain(batch_, max_records);
    for (const auto& m : batch_) {
      // The message's place in arrival order: its MQTT acknowledgement waits for
      // delivered() to reach it.
      seq_text_ = std::to_string(m.seq);
      ParsedMessage p;
      if (m.dropped_payload_bytes > 0) {
        p.error = "payload of " + std::to_string(m.dropped_payload_bytes) +
                  " bytes exceeds max_payload_bytes (" + std::to_string(payload_.max_bytes) +
                  "); it was not read";
      } else {
        p = parse_message(m.topic, m.payload, payload_, m.received_ms);
      }
      if (!p.reading) {
        host_.count("bad_payloads");
        SourceRecord bad;
        bad.key = m.topic;
        bad.value = m.payload;
        bad.timestamp_ms = m.received_ms;
        bad.add_header("mqtt.topic", m.topic);
        bad.source_offset = seq_text_;
        if (Status s = host_.reject(bad, "MQTT topic " + m.topic + ": " + p.error); !s.ok())
          return s;
        continue;
      }
      if (Status s = emit(*p.reading, p.host.empty() ? host_name_ : p.host, {}, seq_text_); !s.ok())
        return s;
    }
    host_.gauge("mqtt_pending", static_cast<double>(mqtt_->pending()));
    return Status::Ok();
  }

  Host host_;
  Config cfg_;
  std::string driver_;
  int64_t interval_ms_;
  std::string host_name_;
  bool spans_enabled_;
  WindowSpans windows_;
  std::chrono::steady_clock::time_point next_read_{};

  std::set<std::string> failing_;
  bool warned_empty_ = false;

  std::unique_ptr<SimulatedWalk> sim_;
  double rate_ = 0;
  uint64_t limit_ = 0;
  bool limit_logged_ = false;
  uint64_t round_left_ = 0;
  uint64_t sim_base_step_ = 0;
  std::chrono::steady_clock::time_point sim_started_{};

  std::unique_ptr<MqttClient> mqtt_;
  PayloadOptions payload_;
  std::vector<MqttMessage> batch_;
  bool ack_after_delivery_ = true;
  std::string seq_text_;
};

}  // namespace
}  // namespace ferry::sensors

FERRY_PLUGIN(ferry::sensors::SensorsSource, "sensors", "0.1.0",
             "Sensor readings from Linux hwmon/thermal, MQTT devices or a simulator",
             ferry::sensors::kOptions)
