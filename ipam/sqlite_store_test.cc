// What only the SQLite store does: files, reopening, foreign files, several processes.
#include "ipam/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ipam/testing/temp_dir.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "test/harness/status_assertions.h"

namespace weave::ipam {
namespace {

using testing::TempDir;

Allocation Alloc(const std::string& container, const std::string& cidr) {
  return Allocation{container, "eth0", *net::Cidr::Parse(cidr), "default", container};
}

std::unique_ptr<SqliteStore> MustOpen(const std::string& path,
                                      const SqliteStoreOptions& options = {}) {
  auto store = SqliteStore::Open(path, options);
  REQUIRE_OK(store);
  return std::move(store).value();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs SQL on the file with a connection of its own, as another program would; returns the
// first column of the last row.
std::string RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string result;
  char* error = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &result, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
  return result;
}

std::set<std::string> FilesIn(const TempDir& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// Collects what is logged through spdlog's default logger while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }

  std::vector<std::string> Lines() const {
    return absl::StrSplit(stream_.str(), '\n', absl::SkipEmpty());
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

SqliteStoreOptions At(const char* time) {
  absl::Time t;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, time, &t, &error));
  SqliteStoreOptions options;
  options.now = [t] { return t; };
  return options;
}

TEST_CASE("StorePath appends data.db to the prefix", "[ipam]") {
  CHECK(StorePath("/weavedb/weave-net") == "/weavedb/weave-netdata.db");
}

TEST_CASE("SqliteStore keeps allocations and metadata across reopening", "[ipam]") {
  TempDir dir;
  std::string path = StorePath(dir.File("weave-net"));
  {
    auto store = MustOpen(path);
    REQUIRE_OK(store->InsertAllocation(Alloc("c1", "10.32.0.1/12")));
    REQUIRE_OK(store->InsertAllocation(Alloc("c2", "10.32.0.2/12")));
    REQUIRE_OK(store->DeleteAllocations("c1", ""));
    REQUIRE_OK(store->SetMetadata("peer_name", "42:8e:e8:c4:52:1b"));
  }
  auto store = MustOpen(path);
  auto loaded = store->LoadAllocations();
  REQUIRE_OK(loaded);
  CHECK(*loaded == std::vector<Allocation>{Alloc("c2", "10.32.0.2/12")});
  CHECK(store->GetMetadata("peer_name")->value_or("") == "42:8e:e8:c4:52:1b");
}

TEST_CASE("SqliteStore marks the file as ours, in WAL mode, with a schema version", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  MustOpen(path);
  CHECK(RawSql(path, "PRAGMA journal_mode") == "wal");
  CHECK(RawSql(path, "PRAGMA application_id") == std::to_string(SqliteStore::kApplicationId));
  CHECK(RawSql(path, "PRAGMA user_version") == std::to_string(SqliteStore::kSchemaVersion));
}

TEST_CASE("SqliteStore moves the original Weave Net's BoltDB file aside", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  // A BoltDB file begins with a meta page, nothing like SQLite's header.
  const std::string bolt("\0\0\0\0\0\0\0\0\x04\0\0\0\0\0\0\0\xed\xda\x0c\xed", 20);
  WriteFile(path, bolt);
  WriteFile(path + "-wal", "stale");  // must never be replayed into the new store

  CapturedLog log;
  auto store = MustOpen(path, At("2026-03-04T05:06:07Z"));
  CHECK(log.Lines() == std::vector<std::string>{absl::StrCat(
                           "warning Store ", path,
                           " is not an SQLite database (the original Weave Net's BoltDB?): "
                           "moved it to ",
                           path, ".bolt-20260304T050607Z, starting an empty store")});
  REQUIRE_OK(store->InsertAllocation(Alloc("c1", "10.32.0.1/12")));
  CHECK(ReadFile(path + ".bolt-20260304T050607Z") == bolt);
  CHECK(ReadFile(path + ".bolt-20260304T050607Z-wal") == "stale");
  CHECK(store->LoadAllocations()->size() == 1);
  store.reset();

  // A second foreign file within the same second does not overwrite the first.
  std::filesystem::remove(path);
  WriteFile(path, "not a database either");
  MustOpen(path, At("2026-03-04T05:06:07Z"));
  CHECK(ReadFile(path + ".bolt-20260304T050607Z") == bolt);
  CHECK(ReadFile(path + ".bolt-20260304T050607Z.1") == "not a database either");
}

TEST_CASE("SqliteStore leaves a BoltDB file alone while its owner still runs", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  WriteFile(path, "bolt");
  // The original Weave Net holds its BoltDB file with flock while it runs.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(flock(fd, LOCK_EX) == 0);

  auto store = SqliteStore::Open(path);
  CHECK(store.status().code() == absl::StatusCode::kUnavailable);
  CHECK(store.status().message() ==
        absl::StrCat("opening store ", path,
                     ": it is not an SQLite database (the original Weave Net's BoltDB?) and "
                     "another process holds it locked (the original Weave Net still running?)"));
  CHECK(FilesIn(dir) == std::set<std::string>{"weave-netdata.db"});

  close(fd);
  REQUIRE_OK(SqliteStore::Open(path, At("2026-03-04T05:06:07Z")));
  CHECK(FilesIn(dir) ==
        std::set<std::string>{"weave-netdata.db", "weave-netdata.db.bolt-20260304T050607Z"});
}

TEST_CASE("SqliteStore moves another program's SQLite database aside", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  RawSql(path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");

  auto store = MustOpen(path, At("2026-03-04T05:06:07Z"));
  CHECK(RawSql(path + ".foreign-20260304T050607Z", "SELECT text FROM notes") == "keep me");
  REQUIRE_OK(store->InsertAllocation(Alloc("c1", "10.32.0.1/12")));
  CHECK(RawSql(path, "SELECT count(*) FROM allocations") == "1");
}

TEST_CASE("SqliteStore refuses a store written by a newer version and leaves it alone", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  MustOpen(path);
  RawSql(path, "PRAGMA user_version = 99");

  auto store = SqliteStore::Open(path);
  CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(
      store.status().message() ==
      absl::StrCat("opening store ", path,
                   ": it was written by a newer version (schema 99; this version knows up to 1)"));
  CHECK(FilesIn(dir).count("weave-netdata.db") == 1);
  CHECK(RawSql(path, "PRAGMA user_version") == "99");
}

TEST_CASE("SqliteStore reports a damaged store of ours and leaves it for the operator", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  REQUIRE_OK(MustOpen(path)->InsertAllocation(Alloc("c1", "10.32.0.1/12")));
  std::string contents = ReadFile(path);
  REQUIRE(contents.size() > 200);
  // Keep SQLite's 100-byte header (so it is recognisably ours), garble the schema page.
  std::string damaged = contents.substr(0, 100) + std::string(contents.size() - 100, '\x5a');
  WriteFile(path, damaged);

  auto store = SqliteStore::Open(path);
  CHECK(store.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StartsWith(store.status().message(),
                         absl::StrCat("opening store ", path, ": reading its header: ")));
  CHECK(ReadFile(path) == damaged);
}

TEST_CASE("SqliteStore errors name the store", "[ipam]") {
  TempDir dir;
  std::string path = dir.File("missing-dir/weave-netdata.db");
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  INFO(store.status());
  CHECK(absl::StartsWith(store.status().message(), absl::StrCat("opening store ", path, ": ")));

  std::filesystem::create_directory(dir.File("a-directory"));
  store = SqliteStore::Open(dir.File("a-directory"));
  CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(store.status().message() ==
        absl::StrCat("opening store ", dir.File("a-directory"), ": it is not a regular file"));
}

TEST_CASE("Two processes writing one store keep it whole and never duplicate an address",
          "[ipam]") {
  TempDir dir;
  std::string path = dir.File("weave-netdata.db");
  MustOpen(path);  // created before the race, so both sides only open
  constexpr int kAddresses = 100;
  // Both processes try to take the same addresses, each under its own container IDs; each
  // address must end up with exactly one of them.
  auto race = [&](const char* who) {
    auto store = SqliteStore::Open(path);
    if (!store.ok()) return -1;
    int won = 0;
    for (int i = 1; i <= kAddresses; ++i) {
      absl::Status st = (*store)->InsertAllocation(
          Alloc(absl::StrCat(who, i), absl::StrCat("10.32.0.", i, "/12")));
      if (st.ok()) {
        ++won;
      } else if (st.code() != absl::StatusCode::kAlreadyExists) {
        return -1;
      }
    }
    return won;
  };
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(race("child-"));
  int parent_won = race("parent-");
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  int child_won = WEXITSTATUS(status);
  REQUIRE(child_won != 255);
  REQUIRE(parent_won >= 0);
  CHECK(parent_won + child_won == kAddresses);

  CHECK(RawSql(path, "PRAGMA integrity_check") == "ok");
  auto loaded = MustOpen(path)->LoadAllocations();
  REQUIRE_OK(loaded);
  REQUIRE(loaded->size() == kAddresses);
  std::set<std::string> addresses;
  for (const Allocation& a : *loaded) addresses.insert(a.address.ToString());
  CHECK(addresses.size() == kAddresses);
}

}  // namespace
}  // namespace weave::ipam
