// SPDX-License-Identifier: Apache-2.0
// Runs SQLite's WAL checkpoints on a thread of their own, so that the
// connection that writes (the daemon's event loop) never copies the WAL into
// the database file inside one of its commits.
//
// Why: with automatic checkpoints, the commit that grows the WAL past 1,000
// pages also copies the whole WAL back and syncs the database file. A
// re-plan of 100,000 jobs (one transaction, about 100 MB of pages) spent a
// fifth of its time there, on the loop. Here the writer's commit only wakes
// this thread, which checkpoints through its own connection; SQLite lets a
// checkpoint run beside a writer in WAL mode (PASSIVE mode waits for nobody).
// Durability is unchanged: a commit is durable once its WAL frames are synced,
// before any checkpoint.
//
// The WAL file is bounded: `journal_size_limit` makes the writer cut it back
// once a checkpoint has let it start over, and the destructor leaves it empty
// (TRUNCATE) so a stopped daemon leaves one self-contained database file.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"
#include "common/sqlite_database.h"

namespace lowcarb {

struct WalCheckpointerOptions {
  // A commit that leaves at least this many pages in the WAL wakes the thread
  // (SQLite's own automatic threshold).
  int wake_at_pages = 1000;
  // The WAL file is cut back to this size once it has been checkpointed.
  int64_t wal_size_limit_bytes = 64ll << 20;
};

class WalCheckpointer {
 public:
  // Opens a second connection to `writer`'s file and takes over its
  // checkpoints. REQUIRES: `writer` outlives the returned object and is not
  // ":memory:".
  static Result<std::unique_ptr<WalCheckpointer>> attach(
      Database& writer, WalCheckpointerOptions options = {});
  // Gives checkpoints back to the writer, stops the thread and empties the
  // WAL (a TRUNCATE checkpoint; waits for the writer's open transaction).
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Blocks until every checkpoint asked for so far has run (for tests and
  // benchmarks).
  void wait_idle();
  // Checkpoints run so far, and what the latest one found.
  int64_t checkpoints() const;
  CheckpointResult last() const;

 private:
  WalCheckpointer(Database& writer, std::unique_ptr<Database> own);
  void request();
  void loop();

  Database& writer_;
  std::unique_ptr<Database> own_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  int64_t checkpoints_ = 0;
  CheckpointResult last_;
  std::thread thread_;
};

}  // namespace lowcarb
