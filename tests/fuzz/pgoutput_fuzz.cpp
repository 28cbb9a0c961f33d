// pgoutput messages as PostgreSQL's slot functions return them: a session of several
// messages (each prefixed by a 2-byte length), so Relation messages are remembered and
// row messages refer to them; each row becomes a Debezium change event, so the column
// values reach the JSON conversion of every type the Relation names.
#include <cstdint>
#include <string>
#include <string_view>

#include "debezium_envelope.hpp"
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
    const Relation* rel = decoder.relation(m.relation);
    if (rel != nullptr && (m.tag == 'I' || m.tag == 'U' || m.tag == 'D')) {
      ferry::odbc::EventSource source;
      source.lsn = m.lsn;
      std::string event, key;
      const Tuple* before = m.old_kind != 0 ? &m.old_tuple : nullptr;
      const Tuple* after = m.tag == 'D' ? nullptr : &m.new_tuple;
      char op = m.tag == 'I' ? 'c' : m.tag == 'U' ? 'u' : 'd';
      ferry::odbc::append_envelope(event, op, rel, before, after, source, 0);
      (void)ferry::odbc::append_key(key, *rel, m.tag == 'D' ? m.old_tuple : m.new_tuple);
    }
    uint64_t lsn = 0;
    (void)parse_lsn(format_lsn(m.lsn), lsn);
  }
  uint64_t lsn = 0;
  (void)parse_lsn(std::string_view(reinterpret_cast<const char*>(data), size), lsn);
  return 0;
}
