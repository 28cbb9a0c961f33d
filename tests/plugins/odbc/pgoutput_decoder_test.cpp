#include "pgoutput_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "debezium_envelope.hpp"
#include "stream_position.hpp"
#include "support/mutations.hpp"

namespace ferry::odbc::pg {
namespace {

// Builds pgoutput messages byte by byte, big-endian, as the server sends them.
struct Bytes {
  std::string s;
  Bytes& c(char v) {
    s.push_back(v);
    return *this;
  }
  Bytes& u(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes& str(const std::string& v) {
    s += v;
    s.push_back('\0');
    return *this;
  }
  Bytes& text(const std::string& v) {
    c('t').u(v.size(), 4);
    s += v;
    return *this;
  }
};

std::string relation_msg() {
  Bytes b;
  b.c('R').u(16384, 4).str("public").str("items").c('d').u(3, 2);
  b.u(1, 1).str("id").u(23, 4).u(0xffffffff, 4);
  b.u(0, 1).str("name").u(25, 4).u(0xffffffff, 4);
  b.u(0, 1).str("doc").u(3802, 4).u(0xffffffff, 4);
  return b.s;
}

TEST(PgoutputDecoder, DecodesATransactionOfEveryMessageType) {
  Decoder d;
  Message m;
  Bytes begin;
  begin.c('B').u(0x16B374D848, 8).u(1'000'000, 8).u(742, 4);
  ASSERT_EQ(d.decode(begin.s, m), "");
  EXPECT_EQ(m.tag, 'B');
  EXPECT_EQ(m.lsn, 0x16B374D848u);
  EXPECT_EQ(m.xid, 742u);
  EXPECT_EQ(m.commit_us, 946'684'800'000'000 + 1'000'000);

  ASSERT_EQ(d.decode(relation_msg(), m), "");
  const Relation* rel = d.relation(16384);
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->schema, "public");
  EXPECT_EQ(rel->table, "items");
  ASSERT_EQ(rel->columns.size(), 3u);
  EXPECT_TRUE(rel->columns[0].key);
  EXPECT_FALSE(rel->columns[1].key);
  EXPECT_EQ(rel->columns[2].type, 3802u);

  Bytes insert;
  insert.c('I').u(16384, 4).c('N').u(3, 2).text("7").c('n').text(R"({"a": 1})");
  ASSERT_EQ(d.decode(insert.s, m), "");
  ASSERT_EQ(m.new_tuple.size(), 3u);
  EXPECT_EQ(m.new_tuple[0].text, "7");
  EXPECT_EQ(m.new_tuple[1].kind, 'n');
  std::string row;
  append_row(row, *rel, m.new_tuple);
  EXPECT_EQ(row, R"({"id":7,"name":null,"doc":{"a": 1}})");
  std::string key;
  ASSERT_TRUE(append_key(key, *rel, m.new_tuple));
  EXPECT_EQ(key, R"({"id":7})");

  Bytes update;  // key changed: old key tuple, then the new row with an unchanged TOAST value
  update.c('U').u(16384, 4).c('K').u(3, 2).text("7").c('n').c('n');
  update.c('N').u(3, 2).text("8").text("x").c('u');
  ASSERT_EQ(d.decode(update.s, m), "");
  EXPECT_EQ(m.old_kind, 'K');
  EXPECT_EQ(m.old_tuple[0].text, "7");
  row.clear();
  append_row(row, *rel, m.new_tuple);
  EXPECT_EQ(row, R"({"id":8,"name":"x","doc":"__debezium_unavailable_value"})");

  Bytes del;
  del.c('D').u(16384, 4).c('K').u(3, 2).text("8").c('n').c('n');
  ASSERT_EQ(d.decode(del.s, m), "");
  EXPECT_EQ(m.tag, 'D');
  EXPECT_EQ(m.old_tuple[0].text, "8");

  Bytes trunc;
  trunc.c('T').u(1, 4).u(2, 1).u(16384, 4);
  ASSERT_EQ(d.decode(trunc.s, m), "");
  EXPECT_EQ(m.truncated, std::vector<uint32_t>{16384});
  EXPECT_EQ(m.truncate_options, 2);

  Bytes commit;
  commit.c('C').u(0, 1).u(0x16B374D848, 8).u(0x16B374D878, 8).u(1'000'000, 8);
  ASSERT_EQ(d.decode(commit.s, m), "");
  EXPECT_EQ(m.lsn, 0x16B374D848u);
  EXPECT_EQ(m.end_lsn, 0x16B374D878u);
}

TEST(PgoutputDecoder, MalformedMessagesAreErrorsNeverCrashes) {
  Decoder d;
  Message m;
  ASSERT_EQ(d.decode(relation_msg(), m), "");
  Bytes insert;
  insert.c('I').u(16384, 4).c('N').u(3, 2).text("7").c('n').text("abc");
  // Every truncation of a valid message is reported, not read past its end.
  for (size_t n = 1; n < insert.s.size(); ++n)
    EXPECT_NE(d.decode(std::string_view(insert.s).substr(0, n), m), "") << n;
  EXPECT_NE(d.decode("", m), "");
  EXPECT_NE(d.decode("Z", m), "");
  Bytes unknown_rel;
  unknown_rel.c('I').u(99, 4).c('N').u(1, 2).text("1");
  EXPECT_NE(d.decode(unknown_rel.s, m), "");
  Bytes bad_kind;
  bad_kind.c('I').u(16384, 4).c('N').u(1, 2).c('?');
  EXPECT_NE(d.decode(bad_kind.s, m), "");
  Bytes too_many;
  too_many.c('I').u(16384, 4).c('N').u(4, 2).text("1").text("2").text("3").text("4");
  EXPECT_NE(d.decode(too_many.s, m), "");
}

TEST(PgoutputDecoder, CorruptedMessagesAreErrorsOrRowsOfValidJson) {
  // Each message of a transaction, damaged: decoding fails with a reason or yields
  // values inside the message, and the row built from them is valid JSON whatever text
  // arrived for an integer or jsonb column.
  Bytes begin, insert, update, del, trunc, commit;
  begin.c('B').u(0x16B374D848, 8).u(1'000'000, 8).u(742, 4);
  insert.c('I').u(16384, 4).c('N').u(3, 2).text("-7").text("it's \"x\"").text(R"({"a": [1]})");
  update.c('U').u(16384, 4).c('O').u(3, 2).text("7").c('n').c('u');
  update.c('N').u(3, 2).text("8").text("x").c('u');
  del.c('D').u(16384, 4).c('K').u(3, 2).text("8").c('n').c('n');
  trunc.c('T').u(1, 4).u(2, 1).u(16384, 4);
  commit.c('C').u(0, 1).u(0x16B374D848, 8).u(0x16B374D878, 8).u(1'000'000, 8);
  size_t decoded = 0, refused = 0;
  uint32_t seed = 1;
  for (const std::string& valid :
       {begin.s, relation_msg(), insert.s, update.s, del.s, trunc.s, commit.s}) {
    for (const std::string& input : test::mutations(valid, 5'000, seed++)) {
      Decoder d;
      Message m;
      ASSERT_EQ(d.decode(relation_msg(), m), "");
      if (!d.decode(input, m).empty()) {
        ++refused;
        continue;
      }
      ++decoded;
      for (const Tuple* t : {&m.old_tuple, &m.new_tuple})
        for (const Value& v : *t)
          ASSERT_TRUE(test::inside(v.text, input)) << test::printable(input);
      const Relation* rel = d.relation(m.relation);
      if (rel == nullptr || (m.tag != 'I' && m.tag != 'U')) continue;
      ASSERT_LE(m.new_tuple.size(), rel->columns.size()) << test::printable(input);
      // json and jsonb values go into the row as they are: PostgreSQL sends only valid
      // JSON for them, so a damaged one is outside what the row can promise.
      bool json_ok = true;
      for (size_t i = 0; i < m.new_tuple.size(); ++i)
        if ((rel->columns[i].type == 114 || rel->columns[i].type == 3802) &&
            m.new_tuple[i].kind == 't')
          json_ok = json_ok && nlohmann::json::accept(m.new_tuple[i].text);
      if (!json_ok) continue;
      std::string row;
      append_row(row, *rel, m.new_tuple);
      ASSERT_TRUE(nlohmann::json::accept(row)) << test::printable(input) << " -> " << row;
    }
  }
  EXPECT_GT(decoded, 1'000u);
  EXPECT_GT(refused, 1'000u);
}

TEST(PgoutputDecoder, LsnTextRoundTrips) {
  uint64_t v = 0;
  ASSERT_TRUE(parse_lsn("16/B374D848", v));
  EXPECT_EQ(v, 0x16B374D848u);
  EXPECT_EQ(format_lsn(v), "16/B374D848");
  EXPECT_EQ(format_lsn(0), "0/0");
  EXPECT_FALSE(parse_lsn("16B374D848", v));
  EXPECT_FALSE(parse_lsn("/1", v));
  EXPECT_FALSE(parse_lsn("1/", v));
  EXPECT_FALSE(parse_lsn("1/G", v));
}

TEST(StreamPosition, FormatsAndParsesEveryShape) {
  StreamPosition p;
  ASSERT_TRUE(parse_position("lsn=0/16B3748", p));
  EXPECT_EQ(p.lsn, 0x16B3748u);
  EXPECT_EQ(p.txn, 0u);
  ASSERT_TRUE(parse_position("lsn=0/16B3748;txn=0/16B9000;n=42", p));
  EXPECT_EQ(p.txn, 0x16B9000u);
  EXPECT_EQ(p.n, 42u);
  EXPECT_EQ(format_position(p), "lsn=0/16B3748;txn=0/16B9000;n=42");
  ASSERT_TRUE(parse_position("snapshot;lsn=1/0", p));
  EXPECT_TRUE(p.snapshot);
  EXPECT_EQ(format_position(p), "snapshot;lsn=1/0");
  EXPECT_FALSE(parse_position("", p));
  EXPECT_FALSE(parse_position("txn=0/1;n=2", p));
  EXPECT_FALSE(parse_position("lsn=nope", p));
  EXPECT_FALSE(parse_position("lsn=0/1;what=2", p));
}

TEST(StreamPosition, CarriesWhatTheSnapshotSawUntilItsEnd) {
  StreamPosition p;
  ASSERT_TRUE(
      parse_position("lsn=0/16B3748;txn=0/16B9000;n=3;vis=740:745:741,743;until=0/16C0000", p));
  EXPECT_EQ(p.vis, "740:745:741,743");
  EXPECT_EQ(p.until, 0x16C0000u);
  EXPECT_EQ(p.n, 3u);
  EXPECT_EQ(format_position(p),
            "lsn=0/16B3748;txn=0/16B9000;n=3;vis=740:745:741,743;until=0/16C0000");
  ASSERT_TRUE(parse_position("lsn=0/1;vis=7:7:;until=0/2", p));
  EXPECT_EQ(format_position(p), "lsn=0/1;vis=7:7:;until=0/2");
  EXPECT_FALSE(parse_position("lsn=0/1;vis=7:7:", p)) << "a visibility without its end";
  EXPECT_FALSE(parse_position("lsn=0/1;until=0/2", p));
}

}  // namespace
}  // namespace ferry::odbc::pg
