#include "cli/plugin_docs.hpp"

#include <fmt/format.h>

#include "config/options.hpp"

namespace ferry::cli {

const char* kind_name(ferry_plugin_kind kind) {
  switch (kind) {
    case FERRY_KIND_SOURCE:
      return "source";
    case FERRY_KIND_SINK:
      return "sink";
    case FERRY_KIND_TRANSFORM:
      return "transform";
  }
  return "unknown";
}

namespace {

std::string constraint(const ferry_option& o) {
  if (o.type == FERRY_OPT_ENUM && o.enum_values) return std::string("one of ") + o.enum_values;
  if ((o.flags & FERRY_OPT_HAS_RANGE) && o.type == FERRY_OPT_INT)
    return fmt::format("{}..{}", o.min, o.max);
  return {};
}

}  // namespace

nlohmann::json plugin_json(const loader::LoadedPlugin& p, bool with_options) {
  const ferry_plugin& d = *p.descriptor;
  nlohmann::json j = {{"name", d.name},
                      {"version", d.version ? d.version : ""},
                      {"kind", kind_name(d.kind)},
                      {"description", d.description ? d.description : ""},
                      {"module", p.module.string()}};
  if (with_options) {
    nlohmann::json opts = nlohmann::json::array();
    for (size_t i = 0; i < d.option_count; ++i) {
      const ferry_option& o = d.options[i];
      nlohmann::json oj = {{"name", o.name},
                           {"type", config::option_type_name(o.type)},
                           {"required", (o.flags & FERRY_OPT_REQUIRED) != 0},
                           {"secret", (o.flags & FERRY_OPT_SECRET) != 0},
                           {"doc", o.doc ? o.doc : ""}};
      oj["default"] = o.default_value ? nlohmann::json(o.default_value) : nlohmann::json();
      if (o.type == FERRY_OPT_ENUM && o.enum_values) oj["values"] = o.enum_values;
      if ((o.flags & FERRY_OPT_HAS_RANGE) && o.type == FERRY_OPT_INT) {
        oj["min"] = o.min;
        oj["max"] = o.max;
      }
      opts.push_back(std::move(oj));
    }
    j["options"] = std::move(opts);
  }
  return j;
}

std::string plugin_text(const loader::LoadedPlugin& p) {
  const ferry_plugin& d = *p.descriptor;
  std::string out = fmt::format("{} {} ({})\n  {}\n  module: {}\n\noptions:\n", d.name,
                                d.version ? d.version : "", kind_name(d.kind),
                                d.description ? d.description : "", p.module.string());
  for (size_t i = 0; i < d.option_count; ++i) {
    const ferry_option& o = d.options[i];
    std::string extra = constraint(o);
    out += fmt::format("  {:<22} {:<16} {}{}\n", o.name, config::option_type_name(o.type),
                       (o.flags & FERRY_OPT_REQUIRED) ? "required"
                       : o.default_value              ? fmt::format("default {}", o.default_value)
                                                      : "optional",
                       (o.flags & FERRY_OPT_SECRET) ? ", secret" : "");
    out += fmt::format("  {:<22} {}{}\n", "", o.doc ? o.doc : "",
                       extra.empty() ? "" : " (" + extra + ")");
  }
  return out;
}

// A literal "|" would end a Markdown table cell.
std::string md_cell(std::string text) {
  for (size_t i = 0; (i = text.find('|', i)) != std::string::npos; i += 2) text.insert(i, "\\");
  return text;
}

std::string plugin_markdown(const loader::LoadedPlugin& p) {
  const ferry_plugin& d = *p.descriptor;
  std::string out = fmt::format(
      "## {} ({})\n\n{}\n\n| option | type | default | description |\n"
      "|---|---|---|---|\n",
      d.name, kind_name(d.kind), d.description ? d.description : "");
  for (size_t i = 0; i < d.option_count; ++i) {
    const ferry_option& o = d.options[i];
    std::string def = (o.flags & FERRY_OPT_REQUIRED) ? "**required**"
                      : o.default_value              ? fmt::format("`{}`", o.default_value)
                                                     : "";
    std::string extra = constraint(o);
    out +=
        fmt::format("| `{}` | {} | {} | {}{}{} |\n", o.name, config::option_type_name(o.type), def,
                    md_cell(o.doc ? o.doc : ""), extra.empty() ? "" : " (" + md_cell(extra) + ")",
                    (o.flags & FERRY_OPT_SECRET) ? " Secret: masked in logs and REST." : "");
  }
  return out;
}

}  // namespace ferry::cli
