#include "config/diagnostics.hpp"

#include <fmt/format.h>

namespace ferry::config {

std::string Diagnostic::str() const {
  if (line == 0) return fmt::format("{}: {}", path, message);
  return fmt::format("{}:{}:{}: {}", path, line, column, message);
}

void Diagnostics::add(std::string path, uint32_t line, uint32_t column, std::string message) {
  items_.push_back(Diagnostic{std::move(path), line, column, std::move(message)});
}

void Diagnostics::add(const std::string& path, const toml::node& node, std::string message) {
  const auto& src = node.source();
  add(path, src.begin.line, src.begin.column, std::move(message));
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::string Diagnostics::str() const {
  std::string out;
  for (const auto& d : items_) {
    out += d.str();
    out += '\n';
  }
  return out;
}

std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diags) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    diags.add(path, err.source().begin.line, err.source().begin.column,
              std::string(err.description()));
    return std::nullopt;
  }
}

}  // namespace ferry::config
