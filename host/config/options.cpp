#include "config/options.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/secrets.hpp"
#include "config/substitution.hpp"
#include "config/units.hpp"

namespace ferry::config {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string_view> split_enum(const char* values) {
  std::vector<std::string_view> out;
  std::string_view s(values ? values : "");
  while (!s.empty()) {
    size_t bar = s.find('|');
    out.push_back(s.substr(0, bar));
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
  }
  return out;
}

const char* node_kind(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

struct Checker {
  const std::string& path;
  std::string_view where;
  Diagnostics& diags;
  References references;

  void error(const toml::node& node, const ferry_option& opt, const std::string& msg) {
    diags.add(
        path, node,
        fmt::format("{}{}: {}", where.empty() ? "" : std::string(where) + " ", opt.name, msg));
  }

  // Reads a string node, expanding ${...}; marks the value secret when it came from a file.
  std::optional<std::string> text(const toml::node& node, const ferry_option& opt,
                                  OptionValue& out) {
    const auto* s = node.as_string();
    if (s == nullptr) return std::nullopt;
    if (references == References::kLiteral) return s->get();
    auto r = substitute(s->get());
    if (!r.ok) {
      error(node, opt, r.error);
      return std::string();
    }
    if (r.ok->from_file) out.secret = true;
    return r.ok->value;
  }

  bool in_range(const toml::node& node, const ferry_option& opt, double v, const char* unit) {
    if ((opt.flags & FERRY_OPT_HAS_RANGE) == 0) return true;
    if (v < opt.min || v > opt.max) {
      error(node, opt, fmt::format("{}{} is out of range [{}, {}]", v, unit, opt.min, opt.max));
      return false;
    }
    return true;
  }

  void scalar(const toml::node& node, const ferry_option& opt, OptionValue& out);
  void list(const toml::node& node, const ferry_option& opt, OptionValue& out);
};

void Checker::scalar(const toml::node& node, const ferry_option& opt, OptionValue& out) {
  auto wrong = [&](const char* expected) {
    error(node, opt, fmt::format("expected {}, got {}", expected, node_kind(node)));
  };
  switch (opt.type) {
    case FERRY_OPT_STRING: {
      auto v = text(node, opt, out);
      if (!v) return wrong("a string");
      out.scalar = *v;
      break;
    }
    case FERRY_OPT_ENUM: {
      auto v = text(node, opt, out);
      if (!v) return wrong("a string");
      auto allowed = split_enum(opt.enum_values);
      if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
        std::vector<std::string> known(allowed.begin(), allowed.end());
        std::string hint = closest_match(*v, known);
        error(node, opt,
              fmt::format("\"{}\" is not one of {}{}", *v, opt.enum_values,
                          hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
        return;
      }
      out.scalar = *v;
      break;
    }
    case FERRY_OPT_BOOL: {
      const auto* b = node.as_boolean();
      if (b == nullptr) return wrong("true or false");
      out.scalar = b->get() ? "true" : "false";
      break;
    }
    case FERRY_OPT_INT: {
      const auto* i = node.as_integer();
      if (i == nullptr) return wrong("an integer");
      if (!in_range(node, opt, static_cast<double>(i->get()), "")) return;
      out.scalar = std::to_string(i->get());
      break;
    }
    case FERRY_OPT_FLOAT: {
      double v = 0;
      if (const auto* f = node.as_floating_point())
        v = f->get();
      else if (const auto* i = node.as_integer())
        v = static_cast<double>(i->get());
      else
        return wrong("a number");
      if (!in_range(node, opt, v, "")) return;
      out.scalar = fmt::format("{}", v);
      break;
    }
    case FERRY_OPT_DURATION: {
      auto v = text(node, opt, out);
      if (!v) return wrong("a duration string such as \"500ms\", \"5s\" or \"15m\"");
      auto ms = parse_duration_ms(*v);
      if (!ms) {
        error(node, opt,
              fmt::format("\"{}\" is not a duration (use a number with ms, s, m, h or d)", *v));
        return;
      }
      if (!in_range(node, opt, static_cast<double>(*ms), "ms")) return;
      out.scalar = std::to_string(*ms);
      break;
    }
    case FERRY_OPT_SIZE: {
      std::optional<uint64_t> bytes;
      if (const auto* i = node.as_integer()) {
        if (i->get() >= 0) bytes = static_cast<uint64_t>(i->get());
      } else if (auto v = text(node, opt, out)) {
        bytes = parse_size_bytes(*v);
      } else {
        return wrong("a size such as 65536, \"64KiB\" or \"1MiB\"");
      }
      if (!bytes) {
        error(node, opt, "not a size (use bytes or a number with KiB, MiB, GiB, KB, MB, GB)");
        return;
      }
      if (!in_range(node, opt, static_cast<double>(*bytes), " bytes")) return;
      out.scalar = std::to_string(*bytes);
      break;
    }
    case FERRY_OPT_STRING_LIST:
      break;
  }
  out.present = true;
}

void Checker::list(const toml::node& node, const ferry_option& opt, OptionValue& out) {
  // A single string is accepted as a one-element list: `paths = "/var/log/*.log"`.
  if (node.is_string()) {
    if (auto v = text(node, opt, out)) out.items.push_back(*v);
    out.present = true;
    return;
  }
  const auto* arr = node.as_array();
  if (arr == nullptr) {
    error(node, opt, "expected an array of strings");
    return;
  }
  for (const auto& item : *arr) {
    auto v = text(item, opt, out);
    if (!v) {
      error(item, opt, "expected an array of strings");
      continue;
    }
    out.items.push_back(*v);
  }
  out.present = true;
}

// Fills the default through the same checks, as if the user had written it.
void apply_default(const ferry_option& opt, OptionValue& out) {
  if (opt.default_value == nullptr) return;
  std::string d = opt.default_value;
  out.present = true;
  switch (opt.type) {
    case FERRY_OPT_DURATION:
      out.scalar = std::to_string(parse_duration_ms(d).value_or(0));
      break;
    case FERRY_OPT_SIZE:
      out.scalar = std::to_string(parse_size_bytes(d).value_or(0));
      break;
    case FERRY_OPT_STRING_LIST: {
      size_t start = 0;
      while (!d.empty() && start <= d.size()) {
        size_t comma = d.find(',', start);
        out.items.push_back(d.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      break;
    }
    default:
      out.scalar = d;
  }
}

}  // namespace

const OptionValue* Options::find(std::string_view name) const {
  for (const auto& v : values_)
    if (v.name == name) return &v;
  return nullptr;
}
bool Options::has(std::string_view name) const {
  const auto* v = find(name);
  return v != nullptr && v->present;
}
std::string Options::str(std::string_view name, std::string fallback) const {
  const auto* v = find(name);
  return v && v->present ? v->scalar : fallback;
}
int64_t Options::integer(std::string_view name, int64_t fallback) const {
  const auto* v = find(name);
  return v && v->present ? std::stoll(v->scalar) : fallback;
}
double Options::number(std::string_view name, double fallback) const {
  const auto* v = find(name);
  return v && v->present ? std::stod(v->scalar) : fallback;
}
bool Options::boolean(std::string_view name, bool fallback) const {
  const auto* v = find(name);
  return v && v->present ? v->scalar == "true" : fallback;
}
const std::vector<std::string>& Options::list(std::string_view name) const {
  static const std::vector<std::string> kEmpty;
  const auto* v = find(name);
  return v ? v->items : kEmpty;
}

nlohmann::json Options::to_json(bool mask_secrets) const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& v : values_) {
    if (!v.present) continue;
    if (mask_secrets && v.secret) {
      j[v.name] = "********";
    } else if (v.type == FERRY_OPT_STRING_LIST) {
      j[v.name] = v.items;
    } else {
      j[v.name] = v.scalar;
    }
  }
  return j;
}

std::vector<std::string> Options::secrets() const {
  std::vector<std::string> out;
  for (const auto& v : values_) {
    if (!v.secret) continue;
    if (!v.scalar.empty()) out.push_back(v.scalar);
    for (const auto& i : v.items)
      if (!i.empty()) out.push_back(i);
  }
  return out;
}

AbiConfig::AbiConfig(const Options& options) {
  items_.reserve(options.values().size());
  for (const auto& v : options.values()) {
    auto& ptrs = items_.emplace_back();
    for (const auto& i : v.items) ptrs.push_back(i.c_str());
    ferry_config_entry e{};
    e.name = v.name.c_str();
    e.type = v.type;
    e.value = v.type == FERRY_OPT_STRING_LIST ? nullptr : v.scalar.c_str();
    e.items = ptrs.data();
    e.item_count = ptrs.size();
    e.present = v.present ? 1 : 0;
    entries_.push_back(e);
  }
}

Options validate_options(const toml::table* table, std::span<const ferry_option> schema,
                         const std::string& path, std::string_view where, Diagnostics& diags,
                         std::span<const std::string_view> ignored, References references) {
  Options result;
  Checker check{path, where, diags, references};
  std::vector<std::string> known;
  for (const auto& opt : schema) known.emplace_back(opt.name);

  if (table != nullptr) {
    for (const auto& [key, node] : *table) {
      std::string_view k = key.str();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      if (std::find(ignored.begin(), ignored.end(), k) != ignored.end()) continue;
      std::string hint = closest_match(k, known);
      diags.add(path, key.source().begin.line, key.source().begin.column,
                fmt::format("unknown key \"{}\"{}{}", k,
                            where.empty() ? "" : fmt::format(" in {}", where),
                            hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
    }
  }

  for (const auto& opt : schema) {
    OptionValue v;
    v.name = opt.name;
    v.type = opt.type;
    v.secret = (opt.flags & FERRY_OPT_SECRET) != 0;
    const toml::node* node = table ? table->get(opt.name) : nullptr;
    if (node != nullptr) {
      if (opt.type == FERRY_OPT_STRING_LIST)
        check.list(*node, opt, v);
      else
        check.scalar(*node, opt, v);
      if (v.secret) {
        secrets::remember(v.scalar);
        for (const auto& item : v.items) secrets::remember(item);
      }
    } else if ((opt.flags & FERRY_OPT_REQUIRED) != 0) {
      if (table != nullptr && table->source().begin.line != 0) {
        diags.add(path, *table,
                  fmt::format("{}missing required key \"{}\"",
                              where.empty() ? "" : std::string(where) + " ", opt.name));
      } else {
        diags.add_file(path, fmt::format("{}missing required key \"{}\"",
                                         where.empty() ? "" : std::string(where) + " ", opt.name));
      }
    } else {
      apply_default(opt, v);
    }
    result.values().push_back(std::move(v));
  }
  return result;
}

std::string closest_match(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& k : known) {
    size_t d = edit_distance(word, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

const char* option_type_name(ferry_option_type type) {
  switch (type) {
    case FERRY_OPT_STRING:
      return "string";
    case FERRY_OPT_INT:
      return "integer";
    case FERRY_OPT_FLOAT:
      return "float";
    case FERRY_OPT_BOOL:
      return "bool";
    case FERRY_OPT_DURATION:
      return "duration";
    case FERRY_OPT_SIZE:
      return "size";
    case FERRY_OPT_STRING_LIST:
      return "list of strings";
    case FERRY_OPT_ENUM:
      return "enum";
  }
  return "unknown";
}

}  // namespace ferry::config
