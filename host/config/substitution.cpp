#include "config/substitution.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/secrets.hpp"

namespace ferry::config {
namespace {

std::optional<std::string> read_secret_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read ${file:" + path + "}";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // Files written by `echo` end in a newline that is not part of the secret.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

SubstitutionResult substitute(std::string_view text) {
  SubstitutionResult r;
  Substituted out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value += text[i++];
      continue;
    }
    size_t end = text.find('}', i + 2);
    if (end == std::string_view::npos) {
      r.error = "unterminated ${ in string";
      return r;
    }
    std::string ref(text.substr(i + 2, end - i - 2));
    i = end + 1;
    if (ref.rfind("file:", 0) == 0) {
      auto content = read_secret_file(ref.substr(5), r.error);
      if (!content) return r;
      out.value += *content;
      out.from_file = true;
      secrets::remember(*content);
      continue;
    }
    std::string name = ref, fallback;
    bool has_fallback = false;
    if (auto pos = ref.find(":-"); pos != std::string::npos) {
      name = ref.substr(0, pos);
      fallback = ref.substr(pos + 2);
      has_fallback = true;
    }
    if (name.empty()) {
      r.error = "empty variable name in ${}";
      return r;
    }
    const char* env = std::getenv(name.c_str());
    if (env != nullptr) {
      out.value += env;
    } else if (has_fallback) {
      out.value += fallback;
    } else {
      r.error = "environment variable " + name + " is not set (write ${" + name +
                ":-default} for a default)";
      return r;
    }
  }
  r.ok = std::move(out);
  return r;
}

}  // namespace ferry::config
