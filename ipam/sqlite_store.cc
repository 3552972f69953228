#include "ipam/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {
namespace {

// Version 1. Addresses are dotted quads so that an operator can read the table with sqlite3;
// UNIQUE(address) is the last line of defence against a duplicate address.
constexpr char kCreateSchema[] = R"sql(
CREATE TABLE allocations (
  container_id  TEXT NOT NULL,
  ifname        TEXT NOT NULL,
  address       TEXT NOT NULL UNIQUE,
  prefix_length INTEGER NOT NULL,
  pod_namespace TEXT NOT NULL,
  pod_name      TEXT NOT NULL,
  PRIMARY KEY (container_id, ifname)
);
CREATE TABLE metadata (
  key   TEXT NOT NULL PRIMARY KEY,
  value BLOB NOT NULL
);
)sql";

constexpr char kAllocationColumns[] =
    "container_id, ifname, address, prefix_length, pod_namespace, pod_name";

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kAlreadyExists;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_READONLY:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

// "<context>: <SQLite's message>[ (errno name)]" for a failure `rc` on `db`.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view context) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (system_errno != 0 && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN)) {
    const char* name = strerrorname_np(system_errno);
    absl::StrAppend(&message, " (", name != nullptr ? name : std::strerror(system_errno), ")");
  }
  return absl::Status(CodeFor(rc), absl::StrCat(context, ": ", message));
}

absl::Status WithPrefix(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStatement {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

// A prepared statement whose errors carry `context`. Bind* fill ?1, ?2, ... in order; a bind
// failure is reported by the next Step.
class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql,
                                           absl::string_view context) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, context);
    return Statement(db, stmt, context);
  }

  Statement& BindText(absl::string_view text) {
    // A null pointer would bind NULL; an empty string must stay an empty string.
    return Check(sqlite3_bind_text(stmt_.get(), ++bound_, text.empty() ? "" : text.data(),
                                   static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  Statement& BindBlob(absl::string_view bytes) {
    if (bytes.empty()) return Check(sqlite3_bind_zeroblob(stmt_.get(), ++bound_, 0));
    return Check(sqlite3_bind_blob(stmt_.get(), ++bound_, bytes.data(),
                                   static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  }
  Statement& BindInt(int64_t value) {
    return Check(sqlite3_bind_int64(stmt_.get(), ++bound_, value));
  }

  // True when a row is ready, false when the statement is done.
  absl::StatusOr<bool> Step() {
    RETURN_IF_ERROR(bind_error_);
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, context_);
  }

  // Steps to the end, ignoring rows.
  absl::Status Run() {
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return absl::OkStatus();
    }
  }

  std::string Text(int column) const {
    const void* data = sqlite3_column_blob(stmt_.get(), column);
    int size = sqlite3_column_bytes(stmt_.get(), column);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt, absl::string_view context)
      : db_(db), stmt_(stmt), context_(context) {}

  Statement& Check(int rc) {
    if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = SqliteError(db_, rc, context_);
    return *this;
  }

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> stmt_;
  std::string context_;
  int bound_ = 0;
  absl::Status bind_error_;
};

absl::Status Exec(sqlite3* db, const char* sql, absl::string_view context) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, context);
}

// The first column of the first row of `sql` (a PRAGMA or a count).
absl::StatusOr<std::string> QueryOne(sqlite3* db, absl::string_view sql,
                                     absl::string_view context) {
  ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db, sql, context));
  ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Text(0) : std::string();
}

absl::StatusOr<int64_t> QueryInt(sqlite3* db, absl::string_view sql, absl::string_view context) {
  ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db, sql, context));
  ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Int(0) : 0;
}

// Runs `body` between BEGIN IMMEDIATE (the write lock up front, so that a busy wait happens
// here rather than as a failed lock upgrade) and COMMIT; rolls back when anything fails.
absl::Status InTransaction(sqlite3* db, absl::string_view context,
                           const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", context));
  absl::Cleanup rollback = [db] {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  };
  RETURN_IF_ERROR(body());
  return Exec(db, "COMMIT", context);
}

// Reads the row `statement` stands on (columns in kAllocationColumns order).
absl::StatusOr<Allocation> ReadAllocation(const Statement& statement, absl::string_view context) {
  Allocation allocation{
      statement.Text(0), statement.Text(1), {}, statement.Text(4), statement.Text(5)};
  std::string address = statement.Text(2);
  int64_t prefix_length = statement.Int(3);
  absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(address);
  if (!ip.ok() || prefix_length < 0 || prefix_length > 32) {
    return absl::DataLossError(absl::StrCat(
        context, ": the allocation of container ", allocation.container_id, " ", allocation.ifname,
        " has an invalid address \"", address, "/", prefix_length, "\""));
  }
  allocation.address = net::Cidr(*ip, static_cast<int>(prefix_length));
  return allocation;
}

// The allocation matching `where` (an SQL condition on ?1[, ?2]), if any.
absl::StatusOr<std::optional<Allocation>> SelectAllocation(sqlite3* db, absl::string_view where,
                                                           absl::string_view first,
                                                           absl::string_view second,
                                                           absl::string_view context) {
  ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(
          db, absl::StrCat("SELECT ", kAllocationColumns, " FROM allocations WHERE ", where),
          context));
  select.BindText(first);
  if (!second.empty()) select.BindText(second);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  return ReadAllocation(select, context);
}

// What is at the store's path before SQLite opens it.
enum class Contents { kNothing, kSqlite, kOther };

absl::StatusOr<Contents> Inspect(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Contents::kNothing;
    return absl::ErrnoToStatus(errno, "reading it");
  }
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat st {};
  if (fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, "reading it");
  if (!S_ISREG(st.st_mode)) return absl::FailedPreconditionError("it is not a regular file");
  // An empty file is a database SQLite has not written yet (or one whose content is still
  // only in its WAL).
  if (st.st_size == 0) return Contents::kNothing;
  static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with the NUL
  char header[sizeof(kMagic)] = {};
  ssize_t n = pread(fd, header, sizeof(header), 0);
  if (n < 0) return absl::ErrnoToStatus(errno, "reading it");
  if (n == sizeof(header) && std::memcmp(header, kMagic, sizeof(kMagic)) == 0) {
    return Contents::kSqlite;
  }
  return Contents::kOther;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// Renames `path` (and any journal beside it, which must never be replayed into the new store)
// to <path>.<kind>-<UTC time>, never over an earlier one. Leaves it alone when another process
// holds it locked (BoltDB flocks its file while the original Weave Net runs) and does nothing
// when another process opening the store at the same moment moved it first.
absl::Status MoveAside(const std::string& path, absl::string_view kind, absl::Time now,
                       absl::string_view what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, "opening it to move it aside");
  }
  absl::Cleanup close_fd = [fd] { close(fd); };
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::UnavailableError(
          absl::StrCat("it ", what,
                       " and another process holds it locked (the original Weave Net still "
                       "running?)"));
    }
    return absl::ErrnoToStatus(errno, "locking it to move it aside");
  }
  struct stat locked {};
  struct stat current {};
  if (fstat(fd, &locked) != 0) return absl::ErrnoToStatus(errno, "reading it");
  if (stat(path.c_str(), &current) != 0 || current.st_dev != locked.st_dev ||
      current.st_ino != locked.st_ino) {
    return absl::OkStatus();
  }
  std::string base = absl::StrCat(path, ".", kind, "-",
                                  absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  std::string target = base;
  for (int i = 1; Exists(target); ++i) target = absl::StrCat(base, ".", i);
  if (rename(path.c_str(), target.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("moving it aside to ", target));
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::string from = absl::StrCat(path, suffix);
    std::string to = absl::StrCat(target, suffix);
    if (rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return absl::ErrnoToStatus(errno, absl::StrCat("moving ", from, " aside to ", to));
    }
  }
  spdlog::warn("Store {} {}: moved it to {}, starting an empty store", path, what, target);
  return absl::OkStatus();
}

absl::StatusOr<DbPtr> Connect(const std::string& path, const SqliteStoreOptions& options) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);  // closes even a failed open
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, "opening it");
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  return db;
}

struct Identity {
  int64_t application_id = 0;
  int64_t schema_version = 0;  // PRAGMA user_version
  int64_t objects = 0;         // tables, indexes, ...

  bool Fresh() const { return application_id == 0 && objects == 0; }
  bool Ours() const { return application_id == SqliteStore::kApplicationId; }
};

absl::StatusOr<Identity> ReadIdentity(sqlite3* db) {
  constexpr absl::string_view kContext = "reading its header";
  Identity id;
  ASSIGN_OR_RETURN(id.application_id, QueryInt(db, "PRAGMA application_id", kContext));
  ASSIGN_OR_RETURN(id.schema_version, QueryInt(db, "PRAGMA user_version", kContext));
  ASSIGN_OR_RETURN(id.objects, QueryInt(db, "SELECT count(*) FROM sqlite_schema", kContext));
  return id;
}

// Creates the schema unless another connection did it first.
absl::Status EnsureSchema(sqlite3* db) {
  constexpr absl::string_view kContext = "creating the schema";
  return InTransaction(db, kContext, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Identity id, ReadIdentity(db));
    if (id.Ours()) return absl::OkStatus();
    RETURN_IF_ERROR(Exec(db, kCreateSchema, kContext));
    RETURN_IF_ERROR(Exec(db,
                         absl::StrCat("PRAGMA user_version = ", SqliteStore::kSchemaVersion,
                                      "; PRAGMA application_id = ", SqliteStore::kApplicationId)
                             .c_str(),
                         kContext));
    return absl::OkStatus();
  });
}

// Open without the "opening store <path>: " prefix.
absl::StatusOr<DbPtr> OpenDb(const std::string& path, const SqliteStoreOptions& options) {
  ASSIGN_OR_RETURN(Contents contents, Inspect(path));
  if (contents == Contents::kOther) {
    RETURN_IF_ERROR(MoveAside(path, "bolt", options.now(),
                              "is not an SQLite database (the original Weave Net's BoltDB?)"));
  }
  ASSIGN_OR_RETURN(DbPtr db, Connect(path, options));
  ASSIGN_OR_RETURN(Identity id, ReadIdentity(db.get()));
  if (!id.Fresh() && !id.Ours()) {
    db.reset();
    RETURN_IF_ERROR(
        MoveAside(path, "foreign", options.now(), "is an SQLite database of another program"));
    ASSIGN_OR_RETURN(db, Connect(path, options));
    ASSIGN_OR_RETURN(id, ReadIdentity(db.get()));
  }
  if (id.Ours() && id.schema_version > SqliteStore::kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("it was written by a newer version (schema ", id.schema_version,
                     "; this version knows up to ", SqliteStore::kSchemaVersion, ")"));
  }
  // The journal mode is a property of the file (the first opener sets it); synchronous is per
  // connection. WAL with synchronous=NORMAL survives a crash of the process (kill -9) without
  // an fsync per commit, which would cost milliseconds on every CNI ADD and DEL. A power loss
  // may roll back the last commits, but it also ends every pod of the node: a lost allocation
  // belonged to a sandbox that no longer exists, and a lost release is collected by CNI GC.
  // WAL needs shared memory, so a file system without mmap keeps the rollback journal.
  ASSIGN_OR_RETURN(std::string mode,
                   QueryOne(db.get(), "PRAGMA journal_mode = WAL", "setting the journal mode"));
  if (mode != "wal") spdlog::warn("Store {} uses journal mode {}, not WAL", path, mode);
  RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous = NORMAL", "setting synchronous mode"));
  if (!id.Ours()) RETURN_IF_ERROR(EnsureSchema(db.get()));
  return db;
}

}  // namespace

std::string StorePath(absl::string_view db_prefix) { return absl::StrCat(db_prefix, "data.db"); }

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(absl::string_view path,
                                                               const SqliteStoreOptions& options) {
  std::string path_string(path);
  absl::StatusOr<DbPtr> db = OpenDb(path_string, options);
  if (!db.ok()) return WithPrefix(absl::StrCat("opening store ", path, ": "), db.status());
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(path_string), db->release()));
}

SqliteStore::SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::vector<Allocation>> SqliteStore::LoadAllocations() {
  absl::MutexLock lock(&mu_);
  std::string context = absl::StrCat("store ", path_, ": loading allocations");
  ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_, absl::StrCat("SELECT ", kAllocationColumns, " FROM allocations"),
                         context));
  std::vector<Allocation> result;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(Allocation allocation, ReadAllocation(select, context));
    result.push_back(std::move(allocation));
  }
  std::sort(result.begin(), result.end(), [](const Allocation& a, const Allocation& b) {
    return a.address.address() < b.address.address();
  });
  return result;
}

absl::Status SqliteStore::InsertAllocation(const Allocation& allocation) {
  absl::MutexLock lock(&mu_);
  std::string address = allocation.address.address().ToString();
  std::string context =
      absl::StrCat("store ", path_, ": recording ", address, " for ", DescribeOwner(allocation));
  return InTransaction(db_, context, [&]() -> absl::Status {
    // Checked first so that a conflict names the holder, as FakeStore does.
    ASSIGN_OR_RETURN(std::optional<Allocation> held,
                     SelectAllocation(db_, "container_id = ?1 AND ifname = ?2",
                                      allocation.container_id, allocation.ifname, context));
    if (held) return OwnerHoldsError(*held);
    ASSIGN_OR_RETURN(held, SelectAllocation(db_, "address = ?1", address, "", context));
    if (held) return AddressHeldError(*held);
    ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(db_,
                           absl::StrCat("INSERT INTO allocations (", kAllocationColumns,
                                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                           context));
    return insert.BindText(allocation.container_id)
        .BindText(allocation.ifname)
        .BindText(address)
        .BindInt(allocation.address.prefix_length())
        .BindText(allocation.pod_namespace)
        .BindText(allocation.pod_name)
        .Run();
  });
}

absl::Status SqliteStore::DeleteAllocations(absl::string_view container_id,
                                            absl::string_view ifname) {
  absl::MutexLock lock(&mu_);
  std::string context = absl::StrCat("store ", path_, ": deleting allocations of container ",
                                     container_id, ifname.empty() ? "" : " ", ifname);
  return InTransaction(db_, context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement del,
        Statement::Prepare(db_,
                           ifname.empty() ? "DELETE FROM allocations WHERE container_id = ?1"
                                          : "DELETE FROM allocations WHERE container_id = ?1 "
                                            "AND ifname = ?2",
                           context));
    del.BindText(container_id);
    if (!ifname.empty()) del.BindText(ifname);
    return del.Run();
  });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetMetadata(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  std::string context = absl::StrCat("store ", path_, ": reading metadata ", key);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, "SELECT value FROM metadata WHERE key = ?1", context));
  ASSIGN_OR_RETURN(bool row, select.BindText(key).Step());
  if (!row) return std::nullopt;
  return select.Text(0);
}

absl::Status SqliteStore::SetMetadata(absl::string_view key, absl::string_view value) {
  absl::MutexLock lock(&mu_);
  std::string context = absl::StrCat("store ", path_, ": writing metadata ", key);
  return InTransaction(db_, context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement upsert,
        Statement::Prepare(db_, "INSERT OR REPLACE INTO metadata (key, value) VALUES (?1, ?2)",
                           context));
    return upsert.BindText(key).BindBlob(value).Run();
  });
}

}  // namespace weave::ipam
