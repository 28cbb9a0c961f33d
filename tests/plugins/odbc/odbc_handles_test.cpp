// odbc::Connection against the real PostgreSQL through psqlODBC: connections made from
// several tasks at once, as a worker starting odbc-cdc and odbc-sink together does.
#include "odbc_handles.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <clocale>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/pg_env.hpp"

namespace ferry::odbc {
namespace {

// psqlODBC calls setlocale(LC_CTYPE, "") inside every SQLDriverConnect and then reads
// the name it returns; another thread's setlocale can free that name in between. CI's
// sanitizer build caught it as a heap-use-after-free when odbc-cdc and odbc-sink made
// their first connections at once. The name is freed only when the locale changes,
// which for connects alone happens once per process, so a thread here keeps putting
// the C locale back, under the lock connects are meant to take.
TEST(OdbcHandles, ConnectionsFromManyThreadsAtOnceAllSucceed) {
  auto pg = test::Postgres::shared();
  pg.use_odbc_ini();
  const std::string connection = pg.connection();
  constexpr int kThreads = 8;
  constexpr int kRounds = 25;
  const std::string locale_at_start = setlocale(LC_CTYPE, nullptr);
  std::atomic<bool> done{false};
  std::thread resetter([&] {
    while (!done.load()) {
      std::lock_guard lock(locale_mutex());
      setlocale(LC_CTYPE, "C");
    }
  });
  std::atomic<int> connected{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds && errors[t].empty(); ++i) {
        Connection conn(shared_environment());
        std::optional<std::string> one;
        if (Status s = conn.connect(connection); !s.ok()) {
          errors[t] = s.message();
        } else if (Status q = conn.query_value("SELECT 1", one); !q.ok() || one != "1") {
          errors[t] = q.ok() ? "SELECT 1 returned " + one.value_or("NULL") : q.message();
        } else {
          connected.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  resetter.join();
  setlocale(LC_CTYPE, locale_at_start.c_str());
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  EXPECT_EQ(connected.load(), kThreads * kRounds);
}

}  // namespace
}  // namespace ferry::odbc
