#include "ipam/single_owner_allocator.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ipam/fake_store.h"
#include "ipam/sqlite_store.h"
#include "ipam/testing/temp_dir.h"
#include "test/harness/status_assertions.h"

namespace weave::ipam {
namespace {

using testing::TempDir;

net::Cidr Range(const char* text) { return *net::Cidr::Parse(text); }

AllocationRequest Pod(const std::string& container, const std::string& ifname = "eth0") {
  return AllocationRequest{container, ifname, "default", "pod-" + container};
}

std::unique_ptr<SingleOwnerAllocator> MustCreate(const char* range, Store* store) {
  auto allocator = SingleOwnerAllocator::Create(Range(range), store);
  REQUIRE_OK(allocator);
  return std::move(allocator).value();
}

std::string MustAllocate(Allocator& allocator, const AllocationRequest& req) {
  auto allocation = allocator.Allocate(req);
  REQUIRE_OK(allocation);
  return allocation->address.ToString();
}

std::vector<std::string> Listed(const Allocator& allocator) {
  auto list = allocator.List();
  REQUIRE_OK(list);
  std::vector<std::string> result;
  for (const Allocation& a : *list) {
    result.push_back(absl::StrCat(a.address.ToString(), " ", a.container_id, " ", a.ifname));
  }
  return result;
}

TEST_CASE("Allocate is idempotent per container and interface", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  auto first = allocator->Allocate(Pod("c1"));
  REQUIRE_OK(first);
  CHECK(*first == Allocation{"c1", "eth0", Range("10.32.0.1/12"), "default", "pod-c1"});
  uint64_t writes = store.write_count();

  auto again = allocator->Allocate(Pod("c1"));
  REQUIRE_OK(again);
  CHECK(*again == *first);
  CHECK(store.write_count() == writes);  // a repeat writes nothing

  CHECK(MustAllocate(*allocator, Pod("c1", "net1")) == "10.32.0.2/12");
  CHECK(allocator->ActiveCount() == 2);
  CHECK(allocator->Range() == Range("10.32.0.0/12"));
}

TEST_CASE("Allocate rejects a request without an owner", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  CHECK(allocator->Allocate(Pod("")).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(allocator->Allocate(Pod("c1", "")).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(allocator->ActiveCount() == 0);
}

TEST_CASE("Allocate hands out the lowest free address and reuses released ones", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  CHECK(MustAllocate(*allocator, Pod("a")) == "10.32.0.1/12");
  CHECK(MustAllocate(*allocator, Pod("b")) == "10.32.0.2/12");
  CHECK(MustAllocate(*allocator, Pod("c")) == "10.32.0.3/12");
  CHECK(MustAllocate(*allocator, Pod("d")) == "10.32.0.4/12");

  REQUIRE_OK(allocator->Release("c", "eth0"));
  REQUIRE_OK(allocator->Release("b", "eth0"));
  CHECK(MustAllocate(*allocator, Pod("e")) == "10.32.0.2/12");
  CHECK(MustAllocate(*allocator, Pod("f")) == "10.32.0.3/12");
  CHECK(MustAllocate(*allocator, Pod("g")) == "10.32.0.5/12");
  CHECK(Listed(*allocator) == std::vector<std::string>{"10.32.0.1/12 a eth0", "10.32.0.2/12 e eth0",
                                                       "10.32.0.3/12 f eth0", "10.32.0.4/12 d eth0",
                                                       "10.32.0.5/12 g eth0"});
  CHECK(store.LoadAllocations()->size() == 5);
}

TEST_CASE("A small range runs out, never using its network or broadcast address", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.0.0.0/29", &store);
  std::set<std::string> addresses;
  for (int i = 0; i < 6; ++i) addresses.insert(MustAllocate(*allocator, Pod(absl::StrCat(i))));
  CHECK(addresses == std::set<std::string>{"10.0.0.1/29", "10.0.0.2/29", "10.0.0.3/29",
                                           "10.0.0.4/29", "10.0.0.5/29", "10.0.0.6/29"});
  auto full = allocator->Allocate(Pod("one-too-many"));
  CHECK(full.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.status().message() == "no free address in 10.0.0.0/29");
  // Still idempotent when full.
  CHECK(MustAllocate(*allocator, Pod("3")) == "10.0.0.4/29");

  REQUIRE_OK(allocator->Release("4", ""));
  CHECK(MustAllocate(*allocator, Pod("one-too-many")) == "10.0.0.5/29");
}

TEST_CASE("Claim reserves an address that Allocate then skips", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  Allocation bridge{"weave:expose", "weave", Range("10.32.0.2/32"), "", ""};
  auto claimed = allocator->Claim(bridge);
  REQUIRE_OK(claimed);
  CHECK(claimed->address == Range("10.32.0.2/12"));  // the range's prefix length
  auto again = allocator->Claim(bridge);             // idempotent
  REQUIRE_OK(again);
  CHECK(*again == *claimed);

  CHECK(MustAllocate(*allocator, Pod("a")) == "10.32.0.1/12");
  CHECK(MustAllocate(*allocator, Pod("b")) == "10.32.0.3/12");
  CHECK(allocator->ActiveCount() == 3);
}

TEST_CASE("Claim reports conflicts and addresses it cannot give", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  REQUIRE(MustAllocate(*allocator, Pod("web")) == "10.32.0.1/12");

  SECTION("an address another owner holds") {
    auto st = allocator->Claim({"other", "eth0", Range("10.32.0.1/12"), "", ""}).status();
    CHECK(st.code() == absl::StatusCode::kAlreadyExists);
    CHECK(st.message() ==
          "10.32.0.1 is already allocated to container web eth0 (pod default/pod-web)");
  }
  SECTION("a second address for an owner") {
    auto st = allocator->Claim({"web", "eth0", Range("10.32.0.9/12"), "", ""}).status();
    CHECK(st.code() == absl::StatusCode::kAlreadyExists);
    CHECK(st.message() == "container web eth0 already holds 10.32.0.1/12");
  }
  SECTION("outside the range") {
    auto st = allocator->Claim({"x", "eth0", Range("10.48.0.1/12"), "", ""}).status();
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() ==
          "cannot claim 10.48.0.1: it is outside the allocation range 10.32.0.0/12");
  }
  SECTION("the network or broadcast address") {
    for (const char* ip : {"10.32.0.0/12", "10.47.255.255/12"}) {
      auto st = allocator->Claim({"x", "eth0", Range(ip), "", ""}).status();
      CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    }
  }
  SECTION("without an owner") {
    auto st = allocator->Claim({"", "eth0", Range("10.32.0.9/12"), "", ""}).status();
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(Listed(*allocator) == std::vector<std::string>{"10.32.0.1/12 web eth0"});
  CHECK(store.LoadAllocations()->size() == 1);
}

TEST_CASE("Release frees one interface or every address of a container", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  MustAllocate(*allocator, Pod("c1", "eth0"));   // .1
  MustAllocate(*allocator, Pod("c10", "eth0"));  // .2
  MustAllocate(*allocator, Pod("c1", "net1"));   // .3
  MustAllocate(*allocator, Pod("c1", "net2"));   // .4

  REQUIRE_OK(allocator->Release("c1", "net2"));
  CHECK(allocator->ActiveCount() == 3);
  REQUIRE_OK(allocator->Release("c1", ""));
  CHECK(Listed(*allocator) == std::vector<std::string>{"10.32.0.2/12 c10 eth0"});
  CHECK(store.LoadAllocations()->size() == 1);

  uint64_t writes = store.write_count();
  CHECK_OK(allocator->Release("c1", ""));  // nothing left: OK, and no write
  CHECK_OK(allocator->Release("never-seen", "eth0"));
  CHECK(store.write_count() == writes);
  CHECK(allocator->Release("", "").code() == absl::StatusCode::kInvalidArgument);

  CHECK(MustAllocate(*allocator, Pod("c2")) == "10.32.0.1/12");
  CHECK(MustAllocate(*allocator, Pod("c3")) == "10.32.0.3/12");
}

TEST_CASE("A failed store write changes nothing", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  MustAllocate(*allocator, Pod("kept"));
  store.FailWritesWith(absl::UnavailableError("disk on fire"));

  auto failed = allocator->Allocate(Pod("a"));
  CHECK(failed.status().code() == absl::StatusCode::kUnavailable);
  CHECK(failed.status().message() ==
        "recording 10.32.0.2 for container a eth0 (pod default/pod-a): disk on fire");
  CHECK(allocator->Claim({"b", "eth0", Range("10.32.0.9/12"), "", ""}).status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(allocator->Release("kept", "").code() == absl::StatusCode::kUnavailable);
  CHECK(Listed(*allocator) == std::vector<std::string>{"10.32.0.1/12 kept eth0"});

  store.FailWritesWith(absl::OkStatus());
  CHECK(MustAllocate(*allocator, Pod("a")) == "10.32.0.2/12");
  CHECK(MustAllocate(*allocator, Pod("b")) == "10.32.0.3/12");
}

TEST_CASE("Create loads what the store holds, including allocations outside a changed range",
          "[ipam]") {
  FakeStore store;
  REQUIRE_OK(store.InsertAllocation({"old", "eth0", Range("10.32.0.1/12"), "", ""}));
  REQUIRE_OK(store.InsertAllocation({"old", "net1", Range("10.32.0.3/12"), "", ""}));
  REQUIRE_OK(store.InsertAllocation({"moved", "eth0", Range("192.168.0.5/24"), "", ""}));

  auto allocator = MustCreate("10.32.0.0/12", &store);
  CHECK(allocator->ActiveCount() == 3);
  CHECK(MustAllocate(*allocator, Pod("new1")) == "10.32.0.2/12");
  CHECK(MustAllocate(*allocator, Pod("new2")) == "10.32.0.4/12");
  // The owner outside the range keeps its address until released.
  auto moved = allocator->Allocate(Pod("moved"));
  REQUIRE_OK(moved);
  CHECK(moved->address == Range("192.168.0.5/24"));
  REQUIRE_OK(allocator->Release("moved", ""));
  CHECK(allocator->ActiveCount() == 4);
  CHECK(store.LoadAllocations()->size() == 4);
}

TEST_CASE("Create rejects ranges it cannot allocate from", "[ipam]") {
  FakeStore store;
  auto host_bits = SingleOwnerAllocator::Create(Range("10.32.0.1/12"), &store);
  CHECK(host_bits.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(host_bits.status().message() ==
        "the allocation range 10.32.0.1/12 has host bits set (did you mean 10.32.0.0/12?)");
  for (const char* tiny : {"10.0.0.0/31", "10.0.0.1/32"}) {
    CHECK(SingleOwnerAllocator::Create(Range(tiny), &store).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  auto smallest = MustCreate("10.0.0.0/30", &store);
  CHECK(MustAllocate(*smallest, Pod("a")) == "10.0.0.1/30");
  CHECK(MustAllocate(*smallest, Pod("b")) == "10.0.0.2/30");
  CHECK_FALSE(smallest->Allocate(Pod("c")).ok());
}

TEST_CASE("Concurrent callers never share an address", "[ipam]") {
  FakeStore store;
  auto allocator = MustCreate("10.32.0.0/12", &store);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto a = allocator->Allocate(Pod(absl::StrCat(t, "-", i)));
        got[t].push_back(a.ok() ? a->address.ToString() : a.status().ToString());
        // Churn: give every third address back.
        if (i % 3 == 0) (void)allocator->Release(absl::StrCat(t, "-", i), "");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto list = allocator->List();
  REQUIRE_OK(list);
  std::set<std::string> held;
  for (const Allocation& a : *list) held.insert(a.address.ToString());
  CHECK(held.size() == allocator->ActiveCount());
  CHECK(allocator->ActiveCount() == kThreads * (kPerThread - (kPerThread + 2) / 3));
  CHECK(store.LoadAllocations()->size() == allocator->ActiveCount());
}

TEST_CASE("SingleOwnerAllocator picks up where it left off after a restart", "[ipam]") {
  TempDir dir;
  std::string path = StorePath(dir.File("weave-net"));
  std::vector<Allocation> before;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE_OK(store);
    auto allocator = MustCreate("10.32.0.0/12", store->get());
    for (const char* c : {"a", "b", "c", "d"}) MustAllocate(*allocator, Pod(c));
    REQUIRE_OK(allocator->Claim({"weave:expose", "weave", Range("10.32.0.5/12"), "", ""}));
    REQUIRE_OK(allocator->Release("b", ""));
    before = *allocator->List();
  }
  auto store = SqliteStore::Open(path);
  REQUIRE_OK(store);
  auto allocator = MustCreate("10.32.0.0/12", store->get());
  CHECK(*allocator->List() == before);
  CHECK(MustAllocate(*allocator, Pod("c")) == "10.32.0.3/12");  // still idempotent
  CHECK(MustAllocate(*allocator, Pod("e")) == "10.32.0.2/12");
  CHECK(MustAllocate(*allocator, Pod("f")) == "10.32.0.6/12");
}

// The child's side of the crash tests: opens the store, allocates for containers c0, c1, ...
// and writes each address to `report` once Allocate has returned it (so it is committed).
// Never returns; exits without closing the store (or is killed first).
[[noreturn]] void AllocateInChild(const std::string& path, int report, int count) {
  auto store = SqliteStore::Open(path);
  if (!store.ok()) _exit(2);
  auto allocator = SingleOwnerAllocator::Create(Range("10.32.0.0/12"), store->get());
  if (!allocator.ok()) _exit(3);
  for (int i = 0; i < count; ++i) {
    auto a = (*allocator)->Allocate(Pod(absl::StrCat("c", i)));
    if (!a.ok()) _exit(4);
    uint32_t ip = a->address.address().value();
    if (write(report, &ip, sizeof(ip)) != sizeof(ip)) _exit(5);
  }
  _exit(0);
}

std::vector<uint32_t> ReadReports(int fd) {
  std::vector<uint32_t> result;
  uint32_t ip = 0;
  while (read(fd, &ip, sizeof(ip)) == sizeof(ip)) result.push_back(ip);
  return result;
}

TEST_CASE("Committed allocations survive a crash and are never handed out twice", "[ipam]") {
  TempDir dir;
  std::string path = StorePath(dir.File("weave-net"));
  const uint32_t first = Range("10.32.0.1/12").address().value();
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  bool killed = false;

  pid_t child = -1;
  std::vector<uint32_t> reported;
  SECTION("the process exits without closing the store") {
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(pipe_fds[0]);
      AllocateInChild(path, pipe_fds[1], 25);
    }
    close(pipe_fds[1]);
    reported = ReadReports(pipe_fds[0]);
  }
  SECTION("the process is killed while allocating") {
    killed = true;
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(pipe_fds[0]);
      AllocateInChild(path, pipe_fds[1], 1000000);
    }
    close(pipe_fds[1]);
    uint32_t ip = 0;
    while (reported.size() < 25 && read(pipe_fds[0], &ip, sizeof(ip)) == sizeof(ip)) {
      reported.push_back(ip);
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    for (uint32_t more : ReadReports(pipe_fds[0])) reported.push_back(more);
  }
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  if (killed) {
    CHECK(WIFSIGNALED(status));
  } else {
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(reported.size() == 25);
  }
  REQUIRE(reported.size() >= 25);

  auto store = SqliteStore::Open(path);
  REQUIRE_OK(store);
  auto stored = (*store)->LoadAllocations();
  REQUIRE_OK(stored);
  // Every reported allocation is there; at most one more (committed, killed before reporting).
  REQUIRE(stored->size() >= reported.size());
  CHECK(stored->size() <= reported.size() + (killed ? 1 : 0));
  for (size_t i = 0; i < stored->size(); ++i) {
    INFO("allocation " << i);
    CHECK((*stored)[i].container_id == absl::StrCat("c", i));
    CHECK((*stored)[i].address.address().value() == first + i);
    if (i < reported.size()) CHECK(reported[i] == first + i);
  }

  auto allocator = MustCreate("10.32.0.0/12", store->get());
  CHECK(allocator->ActiveCount() == stored->size());
  auto fresh = allocator->Allocate(Pod("after-restart"));
  REQUIRE_OK(fresh);
  CHECK(fresh->address.address().value() == first + stored->size());
}

TEST_CASE("Allocate and Release throughput (printed, not asserted)", "[ipam]") {
  // Each SQLite write is one fsync'd commit, so few rounds there keep the test quick.
  auto measure = [&](const char* what, Store* store, int rounds) {
    auto allocator = MustCreate("10.32.0.0/12", store);
    for (int i = 0; i < 300; ++i) MustAllocate(*allocator, Pod(absl::StrCat("resident-", i)));
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) {
      MustAllocate(*allocator, Pod(absl::StrCat("churn-", i)));
      REQUIRE_OK(allocator->Release(absl::StrCat("churn-", i), ""));
    }
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    std::printf("%s, 300 resident: %d allocate+release in %.1f ms, %.1f ms per 1000\n", what,
                rounds, took.count(), took.count() * 1000 / rounds);
  };
  FakeStore fake;
  measure("FakeStore", &fake, 1000);
  TempDir dir;
  auto sqlite = SqliteStore::Open(dir.File("weave-netdata.db"));
  REQUIRE_OK(sqlite);
  measure("SqliteStore (WAL, synchronous=NORMAL)", sqlite->get(), 200);
}

}  // namespace
}  // namespace weave::ipam
