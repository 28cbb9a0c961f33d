#include "config/connect_validation.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include <toml++/toml.h>

#include "config/options.hpp"

namespace ferry::config {
namespace {

using nlohmann::json;

// Connect sends strings; the schema says what each option really is.
std::optional<toml::table> to_toml(std::span<const ferry_option> schema, const json& config,
                                   const std::set<std::string>& skipped) {
  toml::table t;
  for (const auto& [key, value] : config.items()) {
    if (skipped.contains(key) || key.starts_with("errors.") || key.starts_with("kafka.") ||
        key.starts_with("transforms") || key.starts_with("span."))
      continue;
    const ferry_option* opt = nullptr;
    for (const auto& o : schema)
      if (key == o.name) opt = &o;
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (opt == nullptr || value.is_null()) {
      t.insert(key, text);
      continue;
    }
    switch (opt->type) {
      case FERRY_OPT_INT: {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc() && end == text.data() + text.size()) {
          t.insert(key, n);
        } else {
          t.insert(key, text);  // reported as "expected an integer"
        }
        break;
      }
      case FERRY_OPT_FLOAT: {
        char* end = nullptr;
        double d = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) {
          t.insert(key, d);
        } else {
          t.insert(key, text);
        }
        break;
      }
      case FERRY_OPT_BOOL:
        if (text == "true" || text == "false") {
          t.insert(key, text == "true");
        } else {
          t.insert(key, text);
        }
        break;
      case FERRY_OPT_STRING_LIST: {
        toml::array a;
        if (value.is_array()) {
          for (const auto& item : value)
            a.push_back(item.is_string() ? item.get<std::string>() : item.dump());
        } else {
          size_t start = 0;
          while (start <= text.size() && !text.empty()) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            a.push_back(text.substr(start, comma - start));
            start = comma + 1;
          }
        }
        t.insert(key, std::move(a));
        break;
      }
      default:
        t.insert(key, text);
    }
  }
  return t;
}

std::string quoted_key(const std::string& message) {
  auto q = message.find("key \"");
  if (q == std::string::npos) return {};
  auto start = q + 5;
  auto end = message.find('"', start);
  return end == std::string::npos ? std::string() : message.substr(start, end - start);
}

// Each problem goes to the option it names; the rest to connector.class, as Connect does
// for connector-level problems.
std::map<std::string, std::vector<std::string>> errors_by_option(
    const Diagnostics& diags, std::span<const ferry_option> schema) {
  std::map<std::string, std::vector<std::string>> errors;
  for (const auto& d : diags.items()) {
    std::string key = quoted_key(d.message);
    for (const auto& o : schema)
      if (key.empty() && d.message.starts_with(std::string(o.name) + ": ")) key = o.name;
    if (key.empty()) key = "connector.class";
    errors[key].push_back(d.message);
  }
  return errors;
}

// Connect's ConfigDef type of an option.
const char* connect_type(const ferry_option& o) {
  if ((o.flags & FERRY_OPT_SECRET) != 0) return "PASSWORD";
  switch (o.type) {
    case FERRY_OPT_INT:
      return "LONG";
    case FERRY_OPT_FLOAT:
      return "DOUBLE";
    case FERRY_OPT_BOOL:
      return "BOOLEAN";
    case FERRY_OPT_STRING_LIST:
      return "LIST";
    default:  // strings, and durations and sizes written as text ("5s", "64KiB")
      return "STRING";
  }
}

// One entry of ConfigInfos.configs: the definition and the value as given (masked when
// secret), with its errors.
json config_entry(const std::string& name, const char* type, bool required, json default_value,
                  const char* doc, json value, std::vector<std::string> errors, int order) {
  return {{"definition",
           {{"name", name},
            {"type", type},
            {"required", required},
            {"default_value", std::move(default_value)},
            {"importance", required ? "HIGH" : "MEDIUM"},
            {"documentation", doc ? doc : ""},
            {"group", name == "connector.class" ? "Common" : "Plugin"},
            {"width", "NONE"},
            {"display_name", name},
            {"dependents", json::array()},
            {"order", order}}},
          {"value",
           {{"name", name},
            {"value", std::move(value)},
            {"recommended_values", json::array()},
            {"errors", std::move(errors)},
            {"visible", true}}}};
}

}  // namespace

json validate_connect_config(const ferry_plugin& plugin, const json& config) {
  static const std::set<std::string> kFramework{"name",
                                                "connector.class",
                                                "tasks.max",
                                                "topic",
                                                "topics",
                                                "topics.regex",
                                                "file",
                                                "key.converter",
                                                "value.converter",
                                                "header.converter",
                                                "predicates"};
  std::span<const ferry_option> schema(plugin.options, plugin.option_count);
  auto table = to_toml(schema, config, kFramework);
  Diagnostics diags;
  // Values from a request are checked as given: expanding ${...} here would let any
  // client read the environment and files through the error messages.
  Options values =
      validate_options(&*table, schema, "<request>", "", diags, {}, References::kLiteral);
  if (diags.empty() && plugin.validate != nullptr) {
    AbiConfig abi(values);
    ferry_error err{};
    if (plugin.validate(abi.data(), abi.size(), &err) != FERRY_OK)
      diags.add_file("<request>", err.message);
  }
  auto errors = errors_by_option(diags, schema);
  json configs = json::array();
  int error_count = 0;
  auto entry = [&](const std::string& name, const char* type, bool required, json default_value,
                   const char* doc, bool secret) {
    json value = nullptr;
    if (config.contains(name)) {
      const auto& v = config[name];
      value = v.is_string() || v.is_null() ? v : json(v.dump());
    }
    if (secret && value.is_string()) value = "********";
    std::vector<std::string> mine;
    if (auto it = errors.find(name); it != errors.end()) {
      mine = std::move(it->second);
      errors.erase(it);
    }
    error_count += static_cast<int>(mine.size());
    configs.push_back(config_entry(name, type, required, std::move(default_value), doc,
                                   std::move(value), std::move(mine),
                                   static_cast<int>(configs.size()) + 1));
  };
  entry("connector.class", "STRING", true, nullptr, "The ferry plugin name", false);
  for (const auto& o : schema)
    entry(o.name, connect_type(o), (o.flags & FERRY_OPT_REQUIRED) != 0,
          o.default_value ? json(o.default_value) : json(nullptr), o.doc,
          (o.flags & FERRY_OPT_SECRET) != 0);
  // What is left names no option (unknown keys); entry() erases from `errors`, so the
  // names are taken out first.
  std::vector<std::string> unknown;
  for (const auto& [name, messages] : errors) unknown.push_back(name);
  for (const auto& name : unknown)
    entry(name, "STRING", false, nullptr, "not an option of this plugin", false);
  return {{"name", plugin.name},
          {"error_count", error_count},
          {"groups", json::array({"Common", "Plugin"})},
          {"configs", std::move(configs)}};
}

}  // namespace ferry::config
