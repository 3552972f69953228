// The Store contract, run against FakeStore and SqliteStore alike so that the fake stays
// faithful.
#include <catch2/catch.hpp>
#include <memory>

#include "ipam/fake_store.h"
#include "ipam/sqlite_store.h"
#include "ipam/testing/temp_dir.h"
#include "test/harness/status_assertions.h"

namespace weave::ipam {
namespace {

struct FakeStoreFixture {
  FakeStore store;
  Store& get() { return store; }
};

struct SqliteStoreFixture {
  testing::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  SqliteStoreFixture() {
    auto opened = SqliteStore::Open(StorePath(dir.File("weave-net")));
    REQUIRE_OK(opened);
    store = std::move(opened).value();
  }
  Store& get() { return *store; }
};

Allocation Alloc(const char* container, const char* ifname, const char* cidr,
                 const char* pod = "") {
  return Allocation{container, ifname, *net::Cidr::Parse(cidr), pod[0] ? "default" : "", pod};
}

std::vector<std::string> Addresses(Store& store) {
  auto loaded = store.LoadAllocations();
  REQUIRE_OK(loaded);
  std::vector<std::string> result;
  for (const Allocation& a : *loaded) result.push_back(a.address.ToString());
  return result;
}

TEMPLATE_TEST_CASE("Store keeps allocations, ordered by address", "[ipam]", FakeStoreFixture,
                   SqliteStoreFixture) {
  TestType fixture;
  Store& store = fixture.get();
  REQUIRE_OK(store.InsertAllocation(Alloc("c10", "eth0", "10.32.0.10/12", "web-0")));
  REQUIRE_OK(store.InsertAllocation(Alloc("c2", "eth0", "10.32.0.2/12")));
  REQUIRE_OK(store.InsertAllocation(Alloc("c1", "net1", "10.32.0.1/12")));
  CHECK(Addresses(store) ==
        std::vector<std::string>{"10.32.0.1/12", "10.32.0.2/12", "10.32.0.10/12"});
  auto loaded = store.LoadAllocations();
  REQUIRE_OK(loaded);
  CHECK(loaded->back() == Alloc("c10", "eth0", "10.32.0.10/12", "web-0"));
  CHECK(loaded->front() == Alloc("c1", "net1", "10.32.0.1/12"));  // empty pod fields stay empty
}

TEMPLATE_TEST_CASE(
    "Store refuses a second address for an owner and a second owner for an "
    "address",
    "[ipam]", FakeStoreFixture, SqliteStoreFixture) {
  TestType fixture;
  Store& store = fixture.get();
  REQUIRE_OK(store.InsertAllocation(Alloc("c1", "eth0", "10.32.0.1/12", "web-0")));

  absl::Status owner = store.InsertAllocation(Alloc("c1", "eth0", "10.32.0.2/12"));
  CHECK(owner.code() == absl::StatusCode::kAlreadyExists);
  CHECK(owner.message() == "container c1 eth0 already holds 10.32.0.1/12");

  // The same address with another prefix length is the same address.
  absl::Status address = store.InsertAllocation(Alloc("c2", "eth0", "10.32.0.1/32"));
  CHECK(address.code() == absl::StatusCode::kAlreadyExists);
  CHECK(address.message() ==
        "10.32.0.1 is already allocated to container c1 eth0 (pod default/web-0)");

  CHECK(Addresses(store) == std::vector<std::string>{"10.32.0.1/12"});
}

TEMPLATE_TEST_CASE("Store deletes one interface or a whole container", "[ipam]", FakeStoreFixture,
                   SqliteStoreFixture) {
  TestType fixture;
  Store& store = fixture.get();
  REQUIRE_OK(store.InsertAllocation(Alloc("c1", "eth0", "10.32.0.1/12")));
  REQUIRE_OK(store.InsertAllocation(Alloc("c1", "net1", "10.32.0.2/12")));
  REQUIRE_OK(store.InsertAllocation(Alloc("c10", "eth0", "10.32.0.3/12")));
  REQUIRE_OK(store.InsertAllocation(Alloc("c2", "eth0", "10.32.0.4/12")));

  REQUIRE_OK(store.DeleteAllocations("c2", "eth0"));
  CHECK(Addresses(store) ==
        std::vector<std::string>{"10.32.0.1/12", "10.32.0.2/12", "10.32.0.3/12"});
  REQUIRE_OK(store.DeleteAllocations("c1", ""));
  CHECK(Addresses(store) == std::vector<std::string>{"10.32.0.3/12"});
  // Nothing left to delete is fine.
  CHECK_OK(store.DeleteAllocations("c1", ""));
  CHECK_OK(store.DeleteAllocations("c10", "net1"));
  CHECK(Addresses(store) == std::vector<std::string>{"10.32.0.3/12"});
}

TEMPLATE_TEST_CASE("Store keeps metadata as bytes", "[ipam]", FakeStoreFixture,
                   SqliteStoreFixture) {
  TestType fixture;
  Store& store = fixture.get();
  auto missing = store.GetMetadata("peer_name");
  REQUIRE_OK(missing);
  CHECK_FALSE(missing->has_value());

  REQUIRE_OK(store.SetMetadata("peer_name", "42:8e:e8:c4:52:1b"));
  REQUIRE_OK(store.SetMetadata("peer_name", "0e:00:00:00:00:01"));
  const std::string bytes("\0ring\xff", 6);
  REQUIRE_OK(store.SetMetadata("ring", bytes));
  REQUIRE_OK(store.SetMetadata("empty", ""));

  CHECK(store.GetMetadata("peer_name")->value() == "0e:00:00:00:00:01");
  CHECK(store.GetMetadata("ring")->value() == bytes);
  auto empty = store.GetMetadata("empty");
  REQUIRE_OK(empty);
  REQUIRE(empty->has_value());
  CHECK(empty->value().empty());
}

}  // namespace
}  // namespace weave::ipam
