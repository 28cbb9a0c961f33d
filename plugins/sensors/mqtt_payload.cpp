#include "mqtt_payload.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cctype>

namespace ferry::sensors {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    default:
      return "a number";
  }
}

// "a.b.c" into nested objects; nullptr when any step is missing.
const rapidjson::Value* lookup(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* v = &root;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    if (!v->IsObject()) return nullptr;
    auto it =
        v->FindMember(rapidjson::Value(part.data(), static_cast<rapidjson::SizeType>(part.size())));
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return v;
}

std::optional<double> parse_number(std::string_view text) {
  std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

void apply_topic(std::string_view topic, const PayloadOptions& opts, Reading& r,
                 std::string& host) {
  std::vector<std::string> segs = split_topic(topic);
  r.sensor = std::string(topic);
  r.measurement = segs.empty() ? std::string(topic) : segs.back();
  size_t slash = topic.rfind('/');
  r.device = std::string(slash == std::string_view::npos ? topic : topic.substr(0, slash));
  for (const auto& layout : opts.layouts) {
    if (layout.size() != segs.size()) continue;
    std::string sensor_seg;
    for (size_t i = 0; i < layout.size(); ++i) {
      const std::string& name = layout[i];
      if (name == "_" || name.empty()) continue;
      if (name == "device")
        r.device = segs[i];
      else if (name == "measurement")
        r.measurement = segs[i];
      else if (name == "sensor")
        sensor_seg = segs[i];
      else if (name == "host")
        host = segs[i];
      else
        r.tags[name] = segs[i];
    }
    if (!sensor_seg.empty()) r.sensor = r.device + "/" + sensor_seg;
    break;
  }
}

bool read_limit(const rapidjson::Value& doc, const char* name, std::optional<double>& out) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsNumber()) return true;
  double v = it->value.GetDouble();
  if (!std::isfinite(v)) return false;
  out = v;
  return true;
}

}  // namespace

std::vector<std::string> split_topic(std::string_view topic) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = topic.find('/', start);
    out.emplace_back(topic.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::optional<int64_t> parse_iso_time(std::string_view s) {
  std::string t(trim(s));
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &used) != 6)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::string_view rest(t.c_str() + used);
  int64_t ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int64_t offset_s = 0;
  if (rest.empty()) return std::nullopt;  // no zone: ambiguous, refuse
  if (rest == "Z" || rest == "z") {
    rest = {};
  } else if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    int oh = 0, om = 0;
    std::string off(rest.substr(1));
    if (std::sscanf(off.c_str(), "%2d:%2d", &oh, &om) != 2 || off.size() != 5) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (rest.front() == '+' ? 1 : -1);
    rest = {};
  }
  if (!rest.empty()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t epoch = static_cast<int64_t>(timegm(&tm));
  return (epoch - offset_s) * 1000 + ms;
}

ParsedMessage parse_message(std::string_view topic, std::string_view payload,
                            const PayloadOptions& opts, int64_t received_ms) {
  ParsedMessage out;
  if (payload.size() > opts.max_bytes) {
    out.error = "payload of " + std::to_string(payload.size()) +
                " bytes exceeds max_payload_bytes (" + std::to_string(opts.max_bytes) + ")";
    return out;
  }
  Reading r;
  r.ts_ms = received_ms;
  r.unit = opts.unit;
  apply_topic(topic, opts, r, out.host);

  std::string_view body = trim(payload);
  bool json = opts.format == PayloadFormat::kJson ||
              (opts.format == PayloadFormat::kAuto && !body.empty() && body.front() == '{');
  if (!json) {
    auto v = parse_number(body);
    if (!v) {
      out.error = "payload is not a number" +
                  std::string(opts.format == PayloadFormat::kAuto ? " or a JSON object" : "") +
                  ": \"" + std::string(body.substr(0, 40)) + (body.size() > 40 ? "...\"" : "\"");
      return out;
    }
    if (!std::isfinite(*v)) {
      out.error = "value is not finite: " + std::string(body);
      return out;
    }
    r.value = *v;
    out.reading = std::move(r);
    return out;
  }

  rapidjson::Document doc;
  // Default precision, not kParseFullPrecisionFlag: RapidJSON 1.1.0's full-precision
  // path reads a zero with a large exponent ("0e40") as -2.4e229 (its DiyFp normalises a
  // zero significand: found by fuzzing). Readings are far coarser than the last bit the
  // default path may differ in.
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    out.error = std::string("payload is not valid JSON: ") +
                rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
                std::to_string(doc.GetErrorOffset());
    return out;
  }
  if (!doc.IsObject()) {
    out.error = std::string("JSON payload is ") + type_name(doc) + ", expected an object";
    return out;
  }
  const rapidjson::Value* v = lookup(doc, opts.value_field);
  if (v == nullptr) {
    out.error = "JSON payload has no field \"" + opts.value_field + "\"";
    return out;
  }
  if (!v->IsNumber()) {
    out.error = "field \"" + opts.value_field + "\" is " + type_name(*v) + ", expected a number";
    return out;
  }
  r.value = v->GetDouble();
  if (!std::isfinite(r.value)) {
    out.error = "field \"" + opts.value_field + "\" is not finite";
    return out;
  }
  if (!opts.time_field.empty()) {
    if (const rapidjson::Value* t = lookup(doc, opts.time_field)) {
      if (t->IsNumber()) {
        double n = t->GetDouble();
        // Seconds and milliseconds since the epoch: 1e11 s is the year 5138, 1e11 ms 1973.
        // Past the year 9999 (in ms) it is no time, and would not fit an int64.
        constexpr double kLastMs = 253'402'300'799'999.0;
        if (!std::isfinite(n) || n < 0 || n > kLastMs) {
          out.error = "field \"" + opts.time_field + "\" is not a valid time";
          return out;
        }
        r.ts_ms = n >= 1e11 ? static_cast<int64_t>(n) : static_cast<int64_t>(n * 1000);
      } else if (t->IsString()) {
        auto ms = parse_iso_time({t->GetString(), t->GetStringLength()});
        if (!ms) {
          out.error = "field \"" + opts.time_field + "\" is not an ISO-8601 time with a zone: \"" +
                      std::string(t->GetString(), t->GetStringLength()).substr(0, 40) + "\"";
          return out;
        }
        r.ts_ms = *ms;
      } else {
        out.error = "field \"" + opts.time_field + "\" is " + type_name(*t) +
                    ", expected a number or an ISO-8601 string";
        return out;
      }
    }
  }
  if (const rapidjson::Value* u = lookup(doc, opts.unit_field); u != nullptr && u->IsString())
    r.unit.assign(u->GetString(), u->GetStringLength());
  if (!read_limit(doc, "min", r.min) || !read_limit(doc, "max", r.max) ||
      !read_limit(doc, "crit", r.crit)) {
    out.error = "a limit (min, max, crit) is not finite";
    return out;
  }
  if (auto it = doc.FindMember("status"); it != doc.MemberEnd() && it->value.IsString())
    r.status.assign(it->value.GetString(), it->value.GetStringLength());
  out.reading = std::move(r);
  return out;
}

}  // namespace ferry::sensors
