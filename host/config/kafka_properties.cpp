#include "config/kafka_properties.hpp"

#include <fmt/format.h>

#include "common/secrets.hpp"
#include "config/substitution.hpp"

namespace ferry::config {

namespace {

// Unquoted dotted keys (`bootstrap.servers = ...`) are nested tables in TOML; librdkafka
// names are flat, so both spellings are accepted by joining the path with dots.
void flatten(const toml::table& table, const std::string& prefix, const std::string& path,
             Diagnostics& diags, KafkaProperties& props) {
  for (const auto& [key, node] : table) {
    std::string k = prefix + std::string(key.str());
    if (const auto* t = node.as_table()) {
      flatten(*t, k + ".", path, diags, props);
    } else if (const auto* s = node.as_string()) {
      auto r = substitute(s->get());
      if (!r.ok)
        diags.add(path, node, fmt::format("[kafka] {}: {}", k, r.error));
      else
        props[k] = r.ok->value;
      if (r.ok && is_secret_property(k)) secrets::remember(r.ok->value);
    } else if (const auto* i = node.as_integer()) {
      props[k] = std::to_string(i->get());
    } else if (const auto* b = node.as_boolean()) {
      props[k] = b->get() ? "true" : "false";
    } else if (const auto* f = node.as_floating_point()) {
      props[k] = fmt::format("{}", f->get());
    } else {
      diags.add(path, node, fmt::format("[kafka] {}: expected a string, number or boolean", k));
    }
  }
}

}  // namespace

KafkaProperties read_kafka_properties(const toml::table* table, const std::string& path,
                                      Diagnostics& diags) {
  KafkaProperties props;
  if (table != nullptr) flatten(*table, "", path, diags, props);
  return props;
}

bool is_secret_property(const std::string& name) {
  // Anything that carries key material or a credential in librdkafka's property names:
  // ssl.key.pem, ssl.key.password, ssl.keystore.*, sasl.password,
  // sasl.oauthbearer.client.secret / .config / .extensions, sasl.kerberos.keytab, ...
  static constexpr std::string_view kParts[] = {"password",
                                                "secret",
                                                ".pem",
                                                ".key",
                                                "keystore",
                                                "sasl.oauthbearer.config",
                                                "sasl.oauthbearer.extensions",
                                                "credential",
                                                "token"};
  for (auto part : kParts)
    if (name.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace ferry::config
