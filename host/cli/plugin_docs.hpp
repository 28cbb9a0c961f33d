// Renders plugin descriptions (from their option tables) as text, JSON or Markdown:
// the docs come from the same data as validation.
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "loader/plugin_catalog.hpp"

namespace ferry::cli {

nlohmann::json plugin_json(const loader::LoadedPlugin& p, bool with_options);
std::string plugin_text(const loader::LoadedPlugin& p);
std::string plugin_markdown(const loader::LoadedPlugin& p);
// An option table as a Markdown table: option, type, default, description.
std::string options_markdown(std::span<const ferry_option> options);
// docs/options.md: the worker file's and connector files' tables and the built-in
// transforms, from the tables that validate them.
std::string options_reference_markdown();
const char* kind_name(ferry_plugin_kind kind);

}  // namespace ferry::cli
