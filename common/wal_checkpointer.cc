// SPDX-License-Identifier: Apache-2.0
#include "common/wal_checkpointer.h"

#include <fmt/format.h>

#include "common/logging.h"

namespace lowcarb {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::attach(
    Database& writer, WalCheckpointerOptions options) {
  auto own = Database::open(writer.path());
  if (!own) {
    return make_error(own.error().with_context("open checkpoint connection"));
  }
  if (auto s = writer.exec(fmt::format("PRAGMA journal_size_limit={}",
                                       options.wal_size_limit_bytes));
      !s) {
    return make_error(s.error().with_context("bound the WAL"));
  }
  std::unique_ptr<WalCheckpointer> out(
      new WalCheckpointer(writer, std::move(*own)));
  const int wake_at = options.wake_at_pages;
  WalCheckpointer* self = out.get();
  writer.on_wal_commit([self, wake_at](int pages) {
    if (pages >= wake_at) {
      self->request();
    }
  });
  return out;
}

WalCheckpointer::WalCheckpointer(Database& writer,
                                 std::unique_ptr<Database> own)
    : writer_(writer), own_(std::move(own)) {
  thread_ = std::thread([this] { loop(); });
}

WalCheckpointer::~WalCheckpointer() {
  writer_.on_wal_commit(nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  auto done = own_->checkpoint(CheckpointMode::kTruncate);
  if (!done) {
    get_logger("state")->warn("final WAL checkpoint: {}", done.error().message);
  }
}

void WalCheckpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void WalCheckpointer::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return (!requested_ && !running_) || stopping_; });
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

CheckpointResult WalCheckpointer::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void WalCheckpointer::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) {
      return;
    }
    requested_ = false;
    running_ = true;
    lock.unlock();
    auto done = own_->checkpoint(CheckpointMode::kPassive);
    if (!done) {
      get_logger("state")->warn("WAL checkpoint: {}", done.error().message);
    }
    lock.lock();
    running_ = false;
    ++checkpoints_;
    if (done) {
      last_ = *done;
    }
    idle_.notify_all();
  }
}

}  // namespace lowcarb
