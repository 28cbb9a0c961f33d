// pgoutput messages as PostgreSQL's slot functions return them: a session of several
// messages (each prefixed by a 2-byte length), so Relation messages are remembered and
// row messages refer to them.
#include <cstdint>
#include <string_view>

#include "pgoutput_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::odbc::pg;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Decoder decoder;
  Message m;
  while (in.size() >= 2) {
    size_t len = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
    in.remove_prefix(2);
    std::string_view msg = in.substr(0, len);
    in.remove_prefix(msg.size());
    if (!decoder.decode(msg, m).empty()) continue;
    if (const Relation* r = decoder.relation(m.relation)) (void)r;
    uint64_t lsn = 0;
    (void)parse_lsn(format_lsn(m.lsn), lsn);
  }
  uint64_t lsn = 0;
  (void)parse_lsn(std::string_view(reinterpret_cast<const char*>(data), size), lsn);
  return 0;
}
