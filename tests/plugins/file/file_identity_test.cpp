#include "file_identity.hpp"

#include <gtest/gtest.h>

namespace ferry::file {
namespace {

Lineage lineage_of(std::string_view head, FileKey inode, int64_t btime = 0) {
  return Lineage{Fingerprint::of(head), inode, btime, false, "/var/log/app.log"};
}

TEST(FileIdentity, PartitionsNameTheirInodeWithOrWithoutAGeneration) {
  FileKey k{2049, 1234};
  EXPECT_EQ(lineage_partition(k, 0), "2049:1234");  // the form of older checkpoints
  EXPECT_EQ(lineage_partition(k, 3), "2049:1234:3");
  EXPECT_EQ(partition_inode("2049:1234"), k);
  EXPECT_EQ(partition_inode("2049:1234:3"), k);
  EXPECT_FALSE(partition_inode("2049"));
  EXPECT_FALSE(partition_inode("2049:"));
  EXPECT_FALSE(partition_inode("2049:12x"));
  EXPECT_FALSE(partition_inode("2049:1234:"));
  EXPECT_FALSE(partition_inode("2049:1234:3:4"));
}

TEST(FileIdentity, LineageRecordsRoundTripAndOlderRecordsStillRead) {
  Lineage l = lineage_of("first line\n", FileKey{7, 99}, 1'700'000'000'123'456'789);
  l.detached = true;
  l.path = "/var/log/with space/app.log";
  auto back = parse_lineage("7:99:2", format_lineage(l));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fp, l.fp);
  EXPECT_EQ(back->inode, l.inode);
  EXPECT_EQ(back->btime_ns, l.btime_ns);
  EXPECT_TRUE(back->detached);
  EXPECT_EQ(back->path, l.path);

  // "<hash> <len> <path>", as written before lineages: the inode is the partition's.
  auto old = parse_lineage("7:99", "123 11 /var/log/app.log");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->fp, (Fingerprint{123, 11}));
  EXPECT_EQ(old->inode, (FileKey{7, 99}));
  EXPECT_FALSE(old->detached);

  for (const char* bad :
       {"", "v2", "v2 1 2", "v2 1 2 7:99 0 2 /p", "v2 x 2 7:99 0 0 /p", "12 /p", "v2 1 2 7 0 0 /p"})
    EXPECT_FALSE(parse_lineage("7:99", bad)) << bad;
}

TEST(FileIdentity, SameFileNeedsInodeBirthTimeAndFirstBytes) {
  FileKey k{1, 10};
  Lineage l = lineage_of("0123456789", k, 5);
  EXPECT_TRUE(l.carried_by(k, 5, "0123456789 and what came later"));
  EXPECT_TRUE(l.carried_by(k, 0, "0123456789"));   // a filesystem without birth times
  EXPECT_FALSE(l.carried_by(k, 6, "0123456789"));  // the inode number was reused
  EXPECT_FALSE(l.carried_by(FileKey{1, 11}, 5, "0123456789"));
  EXPECT_FALSE(l.carried_by(k, 5, "0123456788"));  // rewritten
  EXPECT_FALSE(l.carried_by(k, 5, "01234"));       // truncated
  l.detached = true;
  EXPECT_FALSE(l.carried_by(k, 5, "0123456789"));  // its inode was deleted or rewritten
}

TEST(FileIdentity, ShortFilesAreKnownByAllTheirBytes) {
  FileKey k{1, 10};
  // Two short files that share a beginning are told apart by what the shorter one had.
  Lineage short_one = lineage_of("a\n", k);
  EXPECT_TRUE(short_one.carried_by(k, 0, "a\nb\n"));  // the same file, grown
  EXPECT_FALSE(short_one.copied_to(FileKey{1, 12}, "b\n"));
  Lineage longer = lineage_of("a\nb\n", k);
  EXPECT_FALSE(longer.carried_by(k, 0, "a\n"));  // not yet as long: not this file
}

TEST(FileIdentity, CopiesAreRecognisedByContentButEmptyFilesAreNoCopies) {
  FileKey original{1, 10}, copy{1, 20};
  Lineage l = lineage_of("2026-12-04 started\n", original);
  EXPECT_TRUE(l.copied_to(copy, "2026-12-04 started\nmore\n"));
  EXPECT_FALSE(l.copied_to(original, "2026-12-04 started\n"));  // that is the file itself
  EXPECT_FALSE(l.copied_to(copy, "2026-12-05 started\n"));
  Lineage empty = lineage_of("", original);
  EXPECT_FALSE(empty.copied_to(copy, ""));
  EXPECT_FALSE(empty.copied_to(copy, "anything"));
}

}  // namespace
}  // namespace ferry::file
