// Collects every problem found in the config files, each located as
// `path:line:col: message`, so that one `ferry validate` run reports all of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace ferry::config {

struct Diagnostic {
  std::string path;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;

  std::string str() const;
};

class Diagnostics {
 public:
  void add(std::string path, uint32_t line, uint32_t column, std::string message);
  // Located at `node`; falls back to the file when the node has no source position.
  void add(const std::string& path, const toml::node& node, std::string message);
  void add_file(const std::string& path, std::string message) {
    add(path, 0, 0, std::move(message));
  }

  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  void append(const Diagnostics& other);
  std::string str() const;  // one diagnostic per line

 private:
  std::vector<Diagnostic> items_;
};

// Parses a TOML file; a syntax error becomes a located diagnostic and nullopt.
std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diags);

}  // namespace ferry::config
