#include "pg_value_json.hpp"

#include <array>
#include <cctype>

#include "ferry/base64.hpp"
#include "ferry/json_text.hpp"

namespace ferry::odbc::pg {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea's hex output ("\x0a0b") as a base64 JSON string. The legacy escape format
// (bytea_output = escape) is passed through as text, since it cannot be mistaken.
void append_bytea(std::string& out, std::string_view text) {
  if (!text.starts_with("\\x") || text.size() % 2 != 0) {
    append_json_string(out, text);
    return;
  }
  std::string bytes;
  bytes.reserve(text.size() / 2);
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  out.push_back('"');
  base64_append(out, bytes);
  out.push_back('"');
}

// "2024-01-02 03:04:05.5+00" -> "2024-01-02T03:04:05.5Z"; "+05:30" stays, "+05"
// becomes "+05:00". Infinity and BC dates stay as PostgreSQL wrote them.
void append_timestamp(std::string& out, std::string_view text, bool with_zone) {
  if (text.size() < 19 || text[10] != ' ' || text.ends_with(" BC")) {
    append_json_string(out, text);
    return;
  }
  out.push_back('"');
  out.append(text.substr(0, 10));
  out.push_back('T');
  std::string_view rest = text.substr(11);
  if (with_zone) {
    size_t z = rest.find_first_of("+-", 8);
    if (z != std::string_view::npos) {
      std::string_view zone = rest.substr(z);
      out.append(rest.substr(0, z));
      if (zone == "+00" || zone == "-00" || zone == "+00:00")
        out.push_back('Z');
      else if (zone.size() == 3)
        out.append(zone).append(":00");
      else
        out.append(zone);
      out.push_back('"');
      return;
    }
  }
  out.append(rest);
  out.push_back('"');
}

// One array literal, e.g. {1,2,NULL} or {{"a b","c\"d"},{e,f}}, as nested JSON arrays.
class ArrayParser {
 public:
  ArrayParser(std::string& out, uint32_t element, bool json_as_text)
      : out_(out), element_(element), json_as_text_(json_as_text) {}

  bool parse(std::string_view text) {
    // Arrays with non-default bounds carry a "[1:2]=" prefix.
    if (!text.empty() && text[0] == '[') {
      size_t eq = text.find('=');
      if (eq == std::string_view::npos) return false;
      text = text.substr(eq + 1);
    }
    s_ = text;
    pos_ = 0;
    size_t mark = out_.size();
    if (!level() || pos_ != s_.size()) {
      out_.resize(mark);
      return false;
    }
    return true;
  }

 private:
  bool level() {
    if (pos_ >= s_.size() || s_[pos_] != '{') return false;
    ++pos_;
    out_.push_back('[');
    bool first = true;
    while (pos_ < s_.size() && s_[pos_] != '}') {
      if (!first) {
        if (s_[pos_] != ',') return false;
        ++pos_;
      }
      if (!first) out_.push_back(',');
      first = false;
      if (pos_ < s_.size() && s_[pos_] == '{') {
        if (!level()) return false;
      } else if (!element()) {
        return false;
      }
    }
    if (pos_ >= s_.size()) return false;
    ++pos_;
    out_.push_back(']');
    return true;
  }

  bool element() {
    std::string value;
    if (pos_ < s_.size() && s_[pos_] == '"') {
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        value.push_back(s_[pos_++]);
      }
      if (pos_ >= s_.size()) return false;
      ++pos_;
      append_value(out_, element_, value, json_as_text_);
      return true;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}') ++pos_;
    std::string_view raw = s_.substr(start, pos_ - start);
    if (raw.empty()) return false;
    if (raw.size() == 4 && (raw == "NULL" || raw == "null"))
      out_.append("null");
    else
      append_value(out_, element_, raw, json_as_text_);
    return true;
  }

  std::string& out_;
  uint32_t element_;
  bool json_as_text_;
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

bool is_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))
    return false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

uint32_t array_element(uint32_t type) {
  switch (type) {
    case 1000:
      return oid::kBool;
    case 1001:
      return oid::kBytea;
    case 1005:
      return oid::kInt2;
    case 1007:
      return oid::kInt4;
    case 1016:
      return oid::kInt8;
    case 1009:
      return oid::kText;
    case 1014:
      return oid::kBpchar;
    case 1015:
      return oid::kVarchar;
    case 1021:
      return oid::kFloat4;
    case 1022:
      return oid::kFloat8;
    case 1028:
      return oid::kOid;
    case 1115:
      return oid::kTimestamp;
    case 1182:
      return oid::kDate;
    case 1183:
      return oid::kTime;
    case 1185:
      return oid::kTimestamptz;
    case 1187:
      return oid::kInterval;
    case 1231:
      return oid::kNumeric;
    case 199:
      return oid::kJson;
    case 2951:
      return oid::kUuid;
    case 3807:
      return oid::kJsonb;
    default:
      return 0;
  }
}

void append_value(std::string& out, uint32_t type, std::string_view text, bool json_as_text) {
  switch (type) {
    case oid::kBool:
      out.append(text == "t" || text == "true" || text == "1" ? "true" : "false");
      return;
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid:
    case oid::kFloat4:
    case oid::kFloat8:
      // NaN and Infinity have no JSON number: they stay strings.
      if (is_json_number(text))
        out.append(text);
      else
        append_json_string(out, text);
      return;
    case oid::kJson:
    case oid::kJsonb:
      if (json_as_text)
        append_json_string(out, text);
      else
        out.append(text);
      return;
    case oid::kBytea:
      append_bytea(out, text);
      return;
    case oid::kTimestamp:
      append_timestamp(out, text, false);
      return;
    case oid::kTimestamptz:
      append_timestamp(out, text, true);
      return;
    default:
      break;
  }
  if (uint32_t element = array_element(type); element != 0) {
    ArrayParser p(out, element, json_as_text);
    if (p.parse(text)) return;
  }
  append_json_string(out, text);  // numeric (exact), text, dates, uuid, anything else
}

void append_connect_schema(std::string& out, uint32_t type, bool optional) {
  const char* opt = optional ? "true" : "false";
  if (uint32_t element = array_element(type); element != 0) {
    out.append("{\"type\":\"array\",\"items\":");
    append_connect_schema(out, element, true);
    out.append(",\"optional\":").append(opt).append("}");
    return;
  }
  const char* t = "string";
  const char* name = nullptr;
  switch (type) {
    case oid::kBool:
      t = "boolean";
      break;
    case oid::kInt2:
      t = "int16";
      break;
    case oid::kInt4:
      t = "int32";
      break;
    case oid::kInt8:
    case oid::kOid:
      t = "int64";
      break;
    case oid::kFloat4:
      t = "float";
      break;
    case oid::kFloat8:
      t = "double";
      break;
    case oid::kBytea:
      t = "bytes";
      break;
    case oid::kJson:
    case oid::kJsonb:
      name = "io.debezium.data.Json";
      break;
    case oid::kUuid:
      name = "io.debezium.data.Uuid";
      break;
    case oid::kTimestamptz:
      name = "io.debezium.time.ZonedTimestamp";
      break;
    default:
      break;
  }
  out.append("{\"type\":\"").append(t).append("\",\"optional\":").append(opt);
  if (name != nullptr) out.append(",\"name\":\"").append(name).append("\"");
  out.push_back('}');
}

}  // namespace ferry::odbc::pg
