// The Store on disk: one SQLite database at <db-prefix>data.db (/weavedb/weave-netdata.db in
// the DaemonSet, on the host's /var/lib/weave).
//
// Durability: WAL journal with synchronous=NORMAL, every write one transaction, so a write that
// returned OK survives kill -9 of the process, and a write cut short leaves no trace. A power
// loss may undo the last writes; see the comment in Open for why that is safe here.
//
// Sharing: several connections (processes) may open the same file; SQLite's file locks
// serialise their writes and the file stays consistent. A writer waits up to busy_timeout for
// another's lock, then fails Unavailable. Every connection must be opened after fork(), never
// inherited across it. (Only one allocator may use a store; see SingleOwnerAllocator.)
//
// Errors name the file: "opening store /weavedb/weave-netdata.db: ...",
// "store /weavedb/weave-netdata.db: deleting allocations of container 1a2b: ...".
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ipam/store.h"

struct sqlite3;

namespace weave::ipam {

// "<db_prefix>data.db": --db-prefix=/weavedb/weave-net gives /weavedb/weave-netdata.db.
std::string StorePath(absl::string_view db_prefix);

struct SqliteStoreOptions {
  // How long a write waits for another connection's lock before failing.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Names the file a foreign store is moved to.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class SqliteStore final : public Store {
 public:
  // The schema this build writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;
  // Marks the file as ours (PRAGMA application_id): "WEAV".
  static constexpr int kApplicationId = 0x57454156;

  // Opens the store at `path`, creating it if missing. What is already at `path`:
  //  - our database: opened; a newer schema than kSchemaVersion is FailedPrecondition (a
  //    downgrade must not guess at data it does not understand);
  //  - something that is not an SQLite database (the original Weave Net's BoltDB file) or an
  //    SQLite database of another program: renamed to <path>.bolt-<UTC time> or
  //    <path>.foreign-<UTC time> with one warning, and a new store is created; Unavailable
  //    while another process holds the file locked (the original Weave Net still running);
  //  - a damaged database of ours: DataLoss; it is left in place for the operator.
  // The directory must exist.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(absl::string_view path,
                                                           const SqliteStoreOptions& options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const { return path_; }

  absl::StatusOr<std::vector<Allocation>> LoadAllocations() override;
  absl::Status InsertAllocation(const Allocation& allocation) override;
  absl::Status DeleteAllocations(absl::string_view container_id, absl::string_view ifname) override;
  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view key) override;
  absl::Status SetMetadata(absl::string_view key, absl::string_view value) override;

 private:
  SqliteStore(std::string path, sqlite3* db);

  const std::string path_;
  absl::Mutex mu_;  // one statement or transaction at a time on the connection
  sqlite3* const db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::ipam
