// The real PostgreSQL 15 that ctest's `services` fixture starts (scripts/postgres.sh),
// psql as the independent client, and servers of a test's own for outages and
// misconfigured servers.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

class Postgres {
 public:
  // The shared server of this test run.
  static Postgres shared() {
    std::string dir;
    if (const char* d = std::getenv("FERRY_TEST_PG"); d && *d) dir = d;
    if (dir.empty()) dir = test_service_dir("pg");
    if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / "connection"))
      throw std::runtime_error(
          "no test PostgreSQL: run the suite with scripts/test.sh (or ctest, whose 'services' "
          "fixture starts one), or set FERRY_TEST_PG=DIR of scripts/postgres.sh start DIR");
    return Postgres(dir);
  }
  explicit Postgres(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // ODBC connection string for ferry (DSN from this server's odbc.ini).
  std::string connection() const { return read_line_file(dir_ / "connection"); }
  std::string port() const { return read_line_file(dir_ / "port"); }
  std::string password() const { return read_line_file(dir_ / "password"); }

  // ferry finds the DSN through these; its child processes inherit them.
  void use_odbc_ini() const {
    setenv("ODBCSYSINI", dir_.c_str(), 1);
    setenv("ODBCINI", (dir_ / "odbc.ini").c_str(), 1);
  }

  // Runs SQL with psql (unaligned, tuples only) and returns its output; throws on error.
  std::string sql(const std::string& text) const {
    auto r = run_command({script(), "psql", dir_.string(), "-qAt", "-c", text});
    if (r.exit_code != 0) throw std::runtime_error("psql failed: " + r.err + "\nSQL: " + text);
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }
  // Runs a file of SQL statements.
  std::string sql_file(const std::filesystem::path& file) const {
    auto r = run_command({script(), "psql", dir_.string(), "-qAt", "-f", file.string()});
    if (r.exit_code != 0) throw std::runtime_error("psql failed: " + r.err);
    return r.out;
  }

  static std::string script() { return source_dir() + "/scripts/postgres.sh"; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// A PostgreSQL of the test's own: outages, or a server set up wrongly on purpose.
class OwnPostgres : public Postgres {
 public:
  explicit OwnPostgres(std::filesystem::path dir, const std::string& wal_level = "logical")
      : Postgres(std::move(dir)) {
    auto r = run_command({script(), "start", this->dir().string()}, {{"WAL_LEVEL", wal_level}});
    if (r.exit_code != 0) throw std::runtime_error("postgres.sh start failed: " + r.out + r.err);
  }
  ~OwnPostgres() { run_command({script(), "stop", dir().string()}); }
  OwnPostgres(const OwnPostgres&) = delete;
  OwnPostgres& operator=(const OwnPostgres&) = delete;

  void pause() { run("pause"); }  // pg_ctl stop -m fast
  void crash() { run("crash"); }  // pg_ctl stop -m immediate: recovery at the next start
  void resume() { run("resume"); }

 private:
  void run(const std::string& command) {
    auto r = run_command({script(), command, dir().string()});
    if (r.exit_code != 0)
      throw std::runtime_error("postgres.sh " + command + " failed: " + r.out + r.err);
  }
};

// A name unique to this test run, usable unquoted as an SQL identifier.
inline std::string unique_sql_name(const std::string& prefix) {
  std::string t = unique_topic(prefix);
  for (char& c : t)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return t;
}

// Tests against the shared PostgreSQL: the DSN is set up for ferry, and replication
// slots handed out by slot() are dropped afterwards, since a slot left behind would pin
// WAL on the shared server for the rest of the run.
class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { pg_.use_odbc_ini(); }
  void TearDown() override {
    for (const auto& slot : slots_)
      pg_.sql(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
          "slot_name = '" +
          slot + "' AND NOT active");
  }
  std::string slot(const std::string& prefix) {
    slots_.push_back(unique_sql_name(prefix));
    return slots_.back();
  }
  Postgres pg_ = Postgres::shared();
  std::vector<std::string> slots_;
};

}  // namespace ferry::test
