// file-sink path templates and the record data that fills them (topic, span id, key,
// timestamp): the result must stay one path under the template's directory.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "fuzz_input.hpp"
#include "path_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::file;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  int64_t ts = 0;
  if (in.size() >= 8) {
    std::memcpy(&ts, in.data(), 8);
    in.remove_prefix(8);
  }
  std::string_view tmpl = ferry::fuzz::take_field(in);
  std::string_view topic = ferry::fuzz::take_field(in);
  std::string_view span = ferry::fuzz::take_field(in);
  TemplateValues v{topic, 3, span, ts, in};
  std::string field;
  (void)template_has_unknown_field(tmpl, field);
  std::string out = expand_path("/out/{topic}/{span}/{date}/{filename}", v);
  // Record data never adds a directory level: exactly the template's four slashes.
  size_t slashes = 0;
  for (char c : out) slashes += c == '/';
  if (slashes != 5 || out.find('\0') != std::string::npos || out.find("/../") != std::string::npos)
    std::abort();
  (void)expand_path(tmpl, v);
  return 0;
}
