#include "router/overlay/mac_table.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

namespace weave::overlay {
namespace {

const PeerName kA(0x0a0000000001ULL);
const PeerName kB(0x0b0000000002ULL);
constexpr uint64_t kMac1 = 0x02000000aa01ULL;
constexpr uint64_t kMac2 = 0x02000000aa02ULL;
const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

using Result = MacTable::LearnResult;

TEST_CASE("MacKey reads six bytes with the first most significant and knows the group bit", "[mac_table]") {
  const uint8_t bytes[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};
  CHECK(MacKey(bytes) == 0x0180c200000eULL);
  CHECK(IsGroupMac(MacKey(bytes)));
  CHECK(IsGroupMac(0xffffffffffffULL));
  CHECK_FALSE(IsGroupMac(kMac1));
}

TEST_CASE("Learn, look up, move, refresh", "[mac_table]") {
  MacTable table;
  CHECK_FALSE(table.Lookup(kMac1, kStart).has_value());
  CHECK(table.Learn(kMac1, kA, kStart) == Result::kAdded);
  CHECK(table.Lookup(kMac1, kStart) == kA);
  CHECK(table.Learn(kMac1, kA, kStart + absl::Seconds(1)) == Result::kUnchanged);
  CHECK(table.Learn(kMac1, kB, kStart + absl::Seconds(2)) == Result::kMoved);
  CHECK(table.Lookup(kMac1, kStart + absl::Seconds(2)) == kB);
  CHECK(table.size() == 1);
}

TEST_CASE("Group addresses are never learned", "[mac_table]") {
  MacTable table;
  CHECK(table.Learn(0xffffffffffffULL, kA, kStart) == Result::kUnchanged);
  CHECK(table.Learn(0x01005e000001ULL, kA, kStart) == Result::kUnchanged);
  CHECK(table.size() == 0);
}

TEST_CASE("Entries expire unless refreshed", "[mac_table]") {
  MacTable table(MacTable::Options{.expiry = absl::Minutes(10)});
  table.Learn(kMac1, kA, kStart);
  table.Learn(kMac2, kA, kStart);
  CHECK(table.Lookup(kMac1, kStart + absl::Minutes(10) - absl::Nanoseconds(1)) == kA);
  CHECK_FALSE(table.Lookup(kMac1, kStart + absl::Minutes(10)).has_value());

  // Frames from kMac2 keep coming: each refresh restarts its clock.
  for (int minute = 5; minute <= 30; minute += 5) {
    table.Learn(kMac2, kA, kStart + absl::Minutes(minute));
  }
  CHECK(table.Lookup(kMac2, kStart + absl::Minutes(39)) == kA);
  CHECK_FALSE(table.Lookup(kMac2, kStart + absl::Minutes(40)).has_value());

  // Refreshes within a second of each other are not written; the entry still lives ~10 min.
  MacTable coarse;
  coarse.Learn(kMac1, kA, kStart);
  coarse.Learn(kMac1, kA, kStart + absl::Milliseconds(500));
  CHECK(coarse.Lookup(kMac1, kStart + absl::Minutes(10) - absl::Milliseconds(1)) == kA);
}

TEST_CASE("Forget and ForgetPeer", "[mac_table]") {
  MacTable table;
  table.Learn(kMac1, kA, kStart);
  table.Learn(kMac2, kB, kStart);
  table.Learn(0x02000000aa03ULL, kA, kStart);
  CHECK(table.ForgetPeer(kA) == 2);
  CHECK_FALSE(table.Lookup(kMac1, kStart).has_value());
  CHECK(table.Lookup(kMac2, kStart) == kB);
  CHECK(table.ForgetPeer(kA) == 0);
  CHECK(table.Forget(kMac2));
  CHECK_FALSE(table.Forget(kMac2));
  CHECK(table.size() == 0);
}

TEST_CASE("A full table sweeps expired entries, then refuses", "[mac_table]") {
  MacTable table(MacTable::Options{.expiry = absl::Minutes(10), .capacity = 3});
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK(table.Learn(kMac1 + 2 * i, kA, kStart) == Result::kAdded);
  }
  CHECK(table.Learn(0x020000000b00ULL, kA, kStart + absl::Minutes(1)) == Result::kFull);
  CHECK_FALSE(table.Lookup(0x020000000b00ULL, kStart).has_value());
  // Known MACs can still move and refresh when full.
  CHECK(table.Learn(kMac1, kB, kStart + absl::Minutes(1)) == Result::kMoved);
  // Once the others have expired, a new MAC gets in.
  CHECK(table.Learn(0x020000000b00ULL, kA, kStart + absl::Minutes(10)) == Result::kAdded);
  CHECK(table.size() == 2);  // kMac1 (refreshed at 1 min) and the new one.
}

// One learner and one reader, as in the sleeve, plus a forgetter; run under TSan to check the
// locking. Here it checks that lookups only ever see a peer that was learned.
TEST_CASE("Concurrent learning, lookups and forgetting", "[mac_table]") {
  MacTable table;
  std::atomic<bool> done{false};
  std::thread learner([&] {
    for (int i = 0; i < 200000; ++i) {
      table.Learn(kMac1 + 2 * (i % 512), (i / 512) % 2 ? kA : kB, kStart + absl::Milliseconds(i));
    }
    done = true;
  });
  std::thread forgetter([&] {
    while (!done) table.ForgetPeer(kA);
  });
  uint64_t seen = 0;
  while (!done) {
    for (int m = 0; m < 512; ++m) {
      std::optional<PeerName> peer = table.Lookup(kMac1 + 2 * m, kStart);
      if (peer.has_value()) {
        REQUIRE((*peer == kA || *peer == kB));
        ++seen;
      }
    }
  }
  learner.join();
  forgetter.join();
  CHECK(seen > 0);
}

}  // namespace
}  // namespace weave::overlay
