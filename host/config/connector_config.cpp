#include "config/connector_config.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "ferry/config.hpp"

namespace ferry::config {
namespace {

namespace o = ferry::opt;

constexpr std::array kTopOptions{
    o::string("name", nullptr, "Connector name (default: the file name without .toml)"),
    o::string("plugin", nullptr, "Plugin that runs this connector", o::kRequired),
    o::string("topic", nullptr, "Sources: destination topic"),
    o::list("topics", nullptr, "Sinks: topics to consume"),
    o::integer("tasks", "1", "Number of tasks", 1, 256),
    o::integer("max_in_flight", "20000", "Records per task sent but not yet acknowledged", 1,
               10'000'000),
    o::size("max_in_flight_bytes", "16MiB",
            "Bytes per task sent but not yet acknowledged (backpressure)", 1024, 1e12),
};

constexpr std::array kErrorOptions{
    o::one_of("tolerance", "none|all", "none",
              "none: a bad record fails the task; all: it goes to the dead letter topic"),
    o::duration("retry_timeout", "5m", "How long retriable errors are retried"),
    o::string("dead_letter_topic", nullptr, "Where bad records go under tolerance = \"all\""),
    o::boolean("log", "true", "Log each record sent to the dead letter topic"),
    o::integer("max_restarts", "0",
               "A failed task is restarted with exponential backoff (1 s doubling to 60 s) at "
               "most this many times in a row, then left FAILED; 0 = without limit",
               0, 1e9),
};

constexpr std::array kSpanOptions{
    o::boolean("enabled", "false", "Tag records with spans"),
    o::duration("ttl", "15m", "A span not delivered/completed by then is expired"),
    o::duration("idle_close", "5m", "Tail mode: close a file's span after this much idle time"),
};

std::string hash_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::to_string(std::hash<std::string>{}(ss.str()));
}

// A transform plugin's settings, checked like a connector plugin's [config].
void load_plugin_transform(const toml::table& t, const toml::node& at, const ferry_plugin& p,
                           const std::string& path, Diagnostics& diags, ConnectorConfig& cfg) {
  std::string where = fmt::format("[[transforms]] {}", p.name);
  if (p.kind != FERRY_KIND_TRANSFORM) {
    diags.add(path, at,
              fmt::format("{}: plugin \"{}\" is a {}, not a transform", where, p.name,
                          p.kind == FERRY_KIND_SOURCE ? "source" : "sink"));
    return;
  }
  static constexpr std::array<std::string_view, 1> kType{"type"};
  size_t before = diags.items().size();
  Options options = validate_options(&t, std::span<const ferry_option>(p.options, p.option_count),
                                     path, where, diags, kType);
  if (p.validate != nullptr && diags.items().size() == before) {
    AbiConfig abi(options);
    ferry_error err{};
    if (p.validate(abi.data(), abi.size(), &err) != FERRY_OK)
      diags.add(path, at, fmt::format("{}: {}", where, err.message));
  }
  cfg.transforms.push_back({p.name, std::move(options), &p});
}

void load_transforms(const toml::table& root, const std::string& path, Diagnostics& diags,
                     const PluginLookup& plugins, ConnectorConfig& cfg) {
  const toml::node* node = root.get("transforms");
  if (node == nullptr) return;
  const auto* arr = node->as_array();
  if (arr == nullptr) {
    diags.add(path, *node, "transforms: expected an array of tables ([[transforms]])");
    return;
  }
  for (const auto& item : *arr) {
    const auto* t = item.as_table();
    if (t == nullptr) {
      diags.add(path, item, "transforms: each entry must be a table");
      continue;
    }
    std::string type = (*t)["type"].value_or(std::string());
    const TransformSchema* spec = nullptr;
    for (const auto& s : plugins.transforms)
      if (s.type == type) spec = &s;
    if (spec == nullptr && plugins.find) {
      if (const ferry_plugin* p = plugins.find(type)) {
        load_plugin_transform(*t, item, *p, path, diags, cfg);
        continue;
      }
    }
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const auto& s : plugins.transforms) known.emplace_back(s.type);
      known.insert(known.end(), plugins.names.begin(), plugins.names.end());
      std::string hint = closest_match(type, known);
      diags.add(path, item,
                fmt::format("[[transforms]] unknown type \"{}\"{}", type,
                            hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
      continue;
    }
    static constexpr std::array<std::string_view, 1> kType{"type"};
    std::string where = fmt::format("[[transforms]] {}", type);
    size_t before = diags.items().size();
    Options options = validate_options(t, spec->options, path, where, diags, kType);
    if (diags.items().size() == before) {
      if (std::string error = spec->check(options); !error.empty())
        diags.add(path, item, fmt::format("{}: {}", where, error));
    }
    cfg.transforms.push_back({type, std::move(options)});
  }
}

void check_plugin_fields(const toml::table& root, const std::string& path, Diagnostics& diags,
                         ConnectorConfig& cfg) {
  const ferry_plugin* p = cfg.descriptor;
  if (p->kind == FERRY_KIND_SOURCE && cfg.topic.empty())
    diags.add(path, root, fmt::format("source plugin \"{}\" needs topic = \"...\"", cfg.plugin));
  if (p->kind == FERRY_KIND_SINK && cfg.topics.empty())
    diags.add(path, root, fmt::format("sink plugin \"{}\" needs topics = [\"...\"]", cfg.plugin));
  if (cfg.tolerate_all() && cfg.dead_letter_topic().empty())
    diags.add(
        path, root,
        "[errors] tolerance = \"all\" needs dead_letter_topic (bad records must go somewhere)");

  cfg.config = validate_options(root["config"].as_table(),
                                std::span<const ferry_option>(p->options, p->option_count), path,
                                "[config]", diags);
  if (p->validate != nullptr && diags.empty()) {
    AbiConfig abi(cfg.config);
    ferry_error err{};
    if (p->validate(abi.data(), abi.size(), &err) != FERRY_OK) {
      const toml::node* at = root.get("config");
      diags.add(path, at ? *at : static_cast<const toml::node&>(root),
                fmt::format("[config] {}", err.message));
    }
  }
}

}  // namespace

std::vector<OptionSection> connector_sections() {
  return {
      {"(top level)", "Which plugin runs, which topics, how many tasks, backpressure.",
       kTopOptions},
      {"[errors]", "What a bad record does, retries and task restarts.", kErrorOptions},
      {"[span]", "Spans for this connector's records.", kSpanOptions},
  };
}

ConnectorConfig load_connector_config(const std::filesystem::path& file,
                                      const PluginLookup& plugins, Diagnostics& diags) {
  ConnectorConfig cfg;
  cfg.path = file.string();
  const std::string& path = cfg.path;
  auto parsed = parse_toml_file(path, diags);
  if (!parsed) return cfg;
  toml::table root = std::move(*parsed);
  cfg.content_hash = hash_file(file);

  static constexpr std::array<std::string_view, 5> kSections{"config", "span", "errors",
                                                             "transforms", "kafka"};
  cfg.top = validate_options(&root, kTopOptions, path, "", diags, kSections);
  cfg.name = cfg.top.str("name", file.stem().string());
  cfg.plugin = cfg.top.str("plugin");
  cfg.topic = cfg.top.str("topic");
  cfg.topics = cfg.top.list("topics");
  cfg.tasks = static_cast<int>(cfg.top.integer("tasks", 1));
  cfg.max_in_flight = cfg.top.integer("max_in_flight");
  cfg.max_in_flight_bytes = static_cast<uint64_t>(cfg.top.integer("max_in_flight_bytes"));
  cfg.errors = validate_options(root["errors"].as_table(), kErrorOptions, path, "[errors]", diags);
  cfg.span = validate_options(root["span"].as_table(), kSpanOptions, path, "[span]", diags);
  cfg.kafka = read_kafka_properties(root["kafka"].as_table(), path, diags);
  load_transforms(root, path, diags, plugins, cfg);

  if (cfg.name.empty() || cfg.name.find_first_of("/\\ \t") != std::string::npos)
    diags.add(path, root, fmt::format("invalid connector name \"{}\"", cfg.name));

  if (!cfg.plugin.empty()) {
    cfg.descriptor = plugins.find(cfg.plugin);
    if (cfg.descriptor == nullptr) {
      std::string hint = closest_match(cfg.plugin, plugins.names);
      const toml::node* at = root.get("plugin");
      diags.add(path, *at,
                fmt::format("unknown plugin \"{}\"{} (installed: {})", cfg.plugin,
                            hint.empty() ? "" : fmt::format(", did you mean \"{}\"?", hint),
                            fmt::join(plugins.names, ", ")));
    } else if (cfg.descriptor->kind == FERRY_KIND_TRANSFORM) {
      diags.add(path, *root.get("plugin"),
                fmt::format("plugin \"{}\" is a transform: use it in [[transforms]] type = "
                            "\"{}\" of a source or sink connector",
                            cfg.plugin, cfg.plugin));
      cfg.descriptor = nullptr;
    } else {
      check_plugin_fields(root, path, diags, cfg);
    }
  }
  return cfg;
}

std::vector<std::filesystem::path> list_connector_files(const std::filesystem::path& dir,
                                                        Diagnostics& diags) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    diags.add_file(dir.string(), fmt::format("cannot read connectors_dir: {}", ec.message()));
    return files;
  }
  for (const auto& entry : it) {
    if (entry.path().extension() == ".toml" && entry.path().filename().string()[0] != '.')
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace ferry::config
