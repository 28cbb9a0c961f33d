#include "config/worker_config.hpp"

#include <unistd.h>

#include <array>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "ferry/config.hpp"

namespace ferry::config {
namespace {

namespace o = ferry::opt;

constexpr std::array kHostOptions{
    o::string("id", nullptr, "Name of this host in span events and logs (default: hostname)"),
    o::list("plugin_path", nullptr,
            "Extra directories searched for lib*.so plugins, after the bundled ones"),
    o::string("connectors_dir", nullptr, "Directory of drop-in connector files (*.toml)"),
    o::string("state_dir", "/var/lib/ferry", "Offsets, checkpoints and span state"),
    o::duration("shutdown_timeout", "30s", "How long SIGTERM waits for in-flight records"),
    o::duration("offset_flush_interval", "1s",
                "How often committed source offsets are saved (a quiet task saves at once)", 10,
                3'600'000),
    o::one_of("log_level", "trace|debug|info|warn|error", "info", "Log level"),
    o::one_of("log_format", "text|json", "text", "Log line format"),
    o::list("log_levels", nullptr,
            "Levels per component: [\"app-logs=debug\", \"rest=warn\"]; a connector's "
            "name covers its tasks (\"app-logs/0\")"),
};

constexpr std::array kRestOptions{
    o::string("listen", "127.0.0.1:8083", "Address of the REST API"),
    o::string("token_file", nullptr, "File holding a bearer token required on every request"),
    o::boolean("enabled", "true", "Serve the REST API"),
    o::list("allowed_hosts", nullptr,
            "Host names a request may name in its Host header (default: localhost, "
            "127.0.0.1, ::1 and the listen address); guards against DNS rebinding"),
    o::list("allowed_origins", nullptr,
            "Browser origins (\"https://console.example\") allowed to change state, beyond "
            "the allowed hosts' own"),
    o::size("max_body_bytes", "1MiB", "Largest request body; larger ones are answered 413", 1024,
            1e9),
    o::integer("max_connections", "32", "REST connections open at once; more are refused", 1, 1024),
    o::duration("request_timeout", "10s",
                "Longest a client may take to send one whole request (headers and body)", 1000,
                3'600'000),
    o::string("tls_cert_file", nullptr, "PEM certificate: serve HTTPS (with tls_key_file)"),
    o::string("tls_key_file", nullptr, "PEM private key of tls_cert_file"),
};

constexpr std::array kSpanOptions{
    o::string("topic", "ferry.spans", "Topic of span lifecycle events"),
    o::list("watch_groups", nullptr, "Third-party consumer groups to report completion for"),
    o::duration("retention", "7d", "How long finished span state is kept"),
    o::integer("max_finished", "20000",
               "Finished spans kept at most (GET /spans); the oldest are forgotten first. "
               "Unfinished spans are always kept. 0: no limit",
               0, 1'000'000'000),
    o::integer("partitions", "6", "Partitions of the span topic when ferry creates it", 1, 10000),
    o::boolean("track", "true",
               "Track completion and serve span state (off: only publish span events)"),
};

constexpr std::array kCollectorOptions{
    o::boolean("enabled", "false", "Run the kafka-eb-collector compatible group collector"),
    o::string("topic", "eventbus-collector", "Input topic"),
    o::string("output_topic", nullptr, "Output topic (default: the input topic)"),
    o::integer("partitions", "6", "Partitions of the collector's own work and state topics", 1,
               10000),
    o::duration("default_ttl", "30s", "Timeout of a group whose Create gives no ttl"),
    o::duration("retention", "7d", "How long resolved groups are remembered (duplicates)"),
};

constexpr std::array kClusterOptions{
    o::string("id", nullptr, "Hosts with the same id share work"),
};

std::string default_host_id() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "ferry";
  return buf.data();
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  return path.is_absolute() || base.empty() ? path : base / path;
}

}  // namespace

std::vector<OptionSection> worker_sections() {
  return {
      {"[host]", "This host: identity, where state lives, logging.", kHostOptions},
      {"[rest]", "The REST API (Kafka Connect's shapes plus ferry's own routes).", kRestOptions},
      {"[spans]", "Span events and completion tracking.", kSpanOptions},
      {"[spans.collector]", "The kafka-eb-collector compatible group collector.",
       kCollectorOptions},
      {"[cluster]", "Reserved for cluster mode.", kClusterOptions},
  };
}

WorkerConfig load_worker_config(const std::string& path, Diagnostics& diags) {
  WorkerConfig cfg;
  cfg.path = path;
  toml::table root;
  if (!path.empty()) {
    auto parsed = parse_toml_file(path, diags);
    if (!parsed) return cfg;
    root = std::move(*parsed);
  }
  static constexpr std::array<std::string_view, 1> kCollector{"collector"};
  constexpr std::array kSections{"host", "kafka", "rest", "spans", "cluster"};
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (std::find(kSections.begin(), kSections.end(), k) != kSections.end() && node.is_table())
      continue;
    std::vector<std::string> known(kSections.begin(), kSections.end());
    std::string hint = closest_match(k, known);
    diags.add(path, key.source().begin.line, key.source().begin.column,
              fmt::format("unknown {} \"{}\" in worker file{}", node.is_table() ? "section" : "key",
                          k, hint.empty() ? "" : fmt::format(" (did you mean [{}]?)", hint)));
  }

  cfg.host = validate_options(root["host"].as_table(), kHostOptions, path, "[host]", diags);
  cfg.rest = validate_options(root["rest"].as_table(), kRestOptions, path, "[rest]", diags);
  const toml::table* spans = root["spans"].as_table();
  cfg.spans = validate_options(spans, kSpanOptions, path, "[spans]", diags, kCollector);
  cfg.collector = validate_options(spans ? (*spans)["collector"].as_table() : nullptr,
                                   kCollectorOptions, path, "[spans.collector]", diags);
  validate_options(root["cluster"].as_table(), kClusterOptions, path, "[cluster]", diags);
  cfg.kafka = read_kafka_properties(root["kafka"].as_table(), path, diags);

  std::filesystem::path base =
      path.empty() ? std::filesystem::path() : std::filesystem::absolute(path).parent_path();
  cfg.host_id = cfg.host.str("id", default_host_id());
  for (const auto& p : cfg.host.list("plugin_path")) cfg.plugin_path.push_back(resolve(base, p));
  if (cfg.host.has("connectors_dir"))
    cfg.connectors_dir = resolve(base, cfg.host.str("connectors_dir"));
  cfg.state_dir = resolve(base, cfg.host.str("state_dir"));
  cfg.shutdown_timeout_ms = cfg.host.integer("shutdown_timeout");
  cfg.offset_flush_interval_ms = cfg.host.integer("offset_flush_interval");
  cfg.log_level = cfg.host.str("log_level");
  cfg.log_format = cfg.host.str("log_format");
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
  for (const auto& item : cfg.host.list("log_levels")) {
    auto eq = item.find('=');
    std::string level = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (eq == 0 || eq == std::string::npos || !kLevels.contains(level)) {
      diags.add_file(path, fmt::format("[host] log_levels: \"{}\" is not COMPONENT=LEVEL with "
                                       "LEVEL one of trace, debug, info, warn, error, off",
                                       item));
      continue;
    }
    cfg.log_levels.emplace_back(item.substr(0, eq), level);
  }
  return cfg;
}

}  // namespace ferry::config
