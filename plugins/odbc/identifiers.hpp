// SQL identifiers from configuration, quoted for the database at hand. Record data
// never becomes SQL text: values are always bound parameters.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ferry::odbc {

// `name` in `quote` characters, with embedded quote characters doubled.
inline std::string quote_identifier(std::string_view name, std::string_view quote) {
  std::string out(quote);
  for (char c : name) {
    if (quote.size() == 1 && c == quote[0]) out.push_back(c);
    out.push_back(c);
  }
  out.append(quote);
  return out;
}

// "schema.table" -> {"schema", "table"}; "table" -> {default_schema, "table"}.
inline std::pair<std::string, std::string> split_qualified(
    std::string_view name, std::string_view default_schema = "public") {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return {std::string(default_schema), std::string(name)};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

// "schema.table" quoted part by part; a bare "table" stays unqualified.
inline std::string quote_qualified(std::string_view name, std::string_view quote) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return quote_identifier(name, quote);
  return quote_identifier(name.substr(0, dot), quote) + "." +
         quote_identifier(name.substr(dot + 1), quote);
}

// `tmpl` with every placeholder replaced, e.g. {"{schema}", "public"}: topic and table
// names from the connector's templates.
inline std::string expand_template(
    std::string tmpl, std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  for (auto [from, to] : values)
    for (size_t p = tmpl.find(from); p != std::string::npos; p = tmpl.find(from, p + to.size()))
      tmpl.replace(p, from.size(), to);
  return tmpl;
}

}  // namespace ferry::odbc
