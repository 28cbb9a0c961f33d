// Reads the rows of an open ODBC cursor on a thread of its own, a chunk ahead of the
// consumer, so that the driver's fetching (network round trips, bytea decoding) runs
// while the task decodes and emits the rows before. The statement belongs to the
// prefetcher until it is destroyed; nothing else may use it, or its connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ferry/status.hpp"
#include "odbc_handles.hpp"

namespace ferry::odbc {

class RowPrefetcher {
 public:
  // Column 1 of every row, read as bytes; NULLs are skipped.
  explicit RowPrefetcher(Statement& st, size_t chunk_rows = 1024, size_t chunks_ahead = 8);
  ~RowPrefetcher();  // stops reading and joins
  RowPrefetcher(const RowPrefetcher&) = delete;
  RowPrefetcher& operator=(const RowPrefetcher&) = delete;

  enum class Take { kRows, kNotYet, kEnd };
  // The next chunk into `rows` (kRows), nothing within `wait` (kNotYet), or the end of
  // the result (kEnd, with `error` set if reading failed).
  Take take(std::vector<std::string>& rows, std::chrono::milliseconds wait, Status& error);

 private:
  void run();

  Statement& st_;
  const size_t chunk_rows_, chunks_ahead_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::string>> ready_;
  bool done_ = false, cancel_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace ferry::odbc
