#include "row_prefetcher.hpp"

namespace ferry::odbc {

RowPrefetcher::RowPrefetcher(Statement& st, size_t chunk_rows, size_t chunks_ahead)
    : st_(st), chunk_rows_(chunk_rows), chunks_ahead_(chunks_ahead), thread_([this] { run(); }) {}

RowPrefetcher::~RowPrefetcher() {
  {
    std::lock_guard lock(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RowPrefetcher::run() {
  std::vector<std::string> chunk;
  std::optional<std::string> data;
  Status failure;
  for (;;) {
    bool row = false;
    if (failure = st_.fetch(row); !failure.ok() || !row) break;
    if (failure = st_.get(1, data, /*binary=*/true); !failure.ok()) break;
    if (data) chunk.push_back(*data);
    if (chunk.size() < chunk_rows_) continue;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return cancel_ || ready_.size() < chunks_ahead_; });
    if (cancel_) return;
    ready_.push_back(std::move(chunk));
    chunk.clear();
    cv_.notify_all();
  }
  std::lock_guard lock(mu_);
  if (!chunk.empty()) ready_.push_back(std::move(chunk));
  error_ = failure;
  done_ = true;
  cv_.notify_all();
}

RowPrefetcher::Take RowPrefetcher::take(std::vector<std::string>& rows,
                                        std::chrono::milliseconds wait, Status& error) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait, [&] { return done_ || !ready_.empty(); })) return Take::kNotYet;
  if (!ready_.empty()) {
    rows = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return Take::kRows;
  }
  error = error_;
  return Take::kEnd;
}

}  // namespace ferry::odbc
