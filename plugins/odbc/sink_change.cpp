#include "sink_change.hpp"

#include "identifiers.hpp"

namespace ferry::odbc {

namespace {

using nlohmann::json;

// Kafka Connect's JsonConverter with schemas.enable wraps data as {schema, payload}.
const json& unwrap(const json& j) {
  if (j.is_object() && j.size() == 2 && j.contains("schema") && j.contains("payload"))
    return j["payload"];
  return j;
}

bool is_envelope(const json& j) {
  return j.is_object() && j.contains("op") && j["op"].is_string() &&
         (j.contains("after") || j.contains("before"));
}

bool key_from(const json& source, const std::vector<std::string>& columns, Change& out,
              std::string& error) {
  for (const auto& c : columns) {
    if (!source.is_object() || !source.contains(c)) {
      error = "key column \"" + c + "\" is not in the record";
      return false;
    }
    out.key.emplace_back(c, source[c]);
  }
  return true;
}

}  // namespace

bool parse_change(std::optional<std::string_view> key, std::optional<std::string_view> value,
                  const std::vector<std::string>& key_columns, Change& out, std::string& error) {
  out = Change{};
  json k;
  if (key) {
    k = json::parse(*key, nullptr, false);
    if (k.is_discarded()) k = json(std::string(*key));  // a plain string key
    k = unwrap(k);
  }
  json v;
  if (value) {
    v = json::parse(*value, nullptr, false);
    if (v.is_discarded()) {
      error = "value is not JSON";
      return false;
    }
    v = unwrap(v);
  }

  // The key of the change: configured columns, else the record key's fields.
  auto take_key = [&](const json& row) {
    if (!key_columns.empty()) {
      // A scalar record key names the one key column's value.
      if (key_columns.size() == 1 && !k.is_null() && !k.is_object()) {
        out.key.emplace_back(key_columns[0], k);
        return true;
      }
      return key_from(k.is_object() ? k : row, key_columns, out, error);
    }
    if (k.is_object() && !k.empty()) {
      for (auto& [name, val] : k.items()) out.key.emplace_back(name, val);
      return true;
    }
    error = k.is_null() ? "the record has no key, and key_columns is not set"
                        : "the record key is not a JSON object; set key_columns";
    return false;
  };

  if (!value || v.is_null()) {  // tombstone: delete by key
    out.kind = Change::Kind::kDelete;
    return take_key(json::object());
  }
  if (is_envelope(v)) {
    std::string op = v["op"];
    if (op == "c" || op == "r" || op == "u") {
      const json& after = v["after"];
      if (!after.is_object()) {
        error = "change event with op \"" + op + "\" has no \"after\" row";
        return false;
      }
      out.kind = Change::Kind::kUpsert;
      out.row = after;
      return take_key(after);
    }
    if (op == "d") {
      out.kind = Change::Kind::kDelete;
      return take_key(v.value("before", json::object()));
    }
    if (op == "t") {
      out.kind = Change::Kind::kTruncate;
      return true;
    }
    error = "unknown change event op \"" + op + "\"";
    return false;
  }
  if (!v.is_object()) {
    error = "value is neither a change event nor a JSON object";
    return false;
  }
  out.kind = Change::Kind::kUpsert;
  out.row = v;
  return take_key(v);
}

std::string table_for_topic(std::string_view tmpl, std::string_view topic) {
  std::string flat(topic);
  for (char& c : flat)
    if (c == '.' || c == '-') c = '_';
  size_t dot = topic.rfind('.');
  std::string last(dot == std::string_view::npos ? topic : topic.substr(dot + 1));
  return expand_template(std::string(tmpl), {{"{topic}", flat}, {"{table}", last}});
}

}  // namespace ferry::odbc
