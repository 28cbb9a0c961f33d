#include "rest/request_guard.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace ferry::rest {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool listed(std::string_view host, const std::vector<std::string>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return lower(a) == host; });
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> default_allowed_hosts(std::string_view listen) {
  std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
  std::string own = host_of_header(listen);  // "HOST:PORT" reads like a Host header
  // A wildcard listen address names no host a client would send.
  if (!own.empty() && own != "0.0.0.0" && own != "::" && !listed(own, hosts)) hosts.push_back(own);
  return hosts;
}

std::string host_of_header(std::string_view v) {
  if (v.empty() || v.size() > 255) return {};
  std::string_view host = v;
  if (v.front() == '[') {
    auto close = v.find(']');
    if (close == std::string_view::npos) return {};
    host = v.substr(1, close - 1);
    std::string_view rest = v.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1)))) return {};
  } else if (auto colon = v.find(':'); colon != std::string_view::npos) {
    host = v.substr(0, colon);
    if (!all_digits(v.substr(colon + 1))) return {};
  }
  if (host.empty()) return {};
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
              (v.front() == '[' && c == ':');
    if (!ok) return {};
  }
  return lower(host);
}

bool host_allowed(std::string_view host_header, const std::vector<std::string>& allowed) {
  std::string host = host_of_header(host_header);
  return !host.empty() && listed(host, allowed);
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed_hosts,
                    const std::vector<std::string>& allowed_origins) {
  std::string o = lower(origin);
  while (!o.empty() && o.back() == '/') o.pop_back();
  if (listed(o, allowed_origins)) return true;
  std::string_view rest = o;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return false;  // "null" (sandboxed frames, file://), other schemes
  }
  if (rest.find('/') != std::string_view::npos) return false;
  return host_allowed(rest, allowed_hosts);
}

bool bearer_matches(std::string_view header, std::string_view token) {
  // Hashing both sides first makes the compare independent of the token's length too.
  auto digest = [](std::string_view s) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
    return d;
  };
  constexpr std::string_view kScheme = "Bearer ";
  bool scheme = header.size() >= kScheme.size() && header.substr(0, kScheme.size()) == kScheme;
  std::string_view given = scheme ? header.substr(kScheme.size()) : std::string_view();
  auto a = digest(given);
  auto b = digest(token);
  bool same = CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  return scheme && !token.empty() && same;
}

}  // namespace ferry::rest
