#include "ipam/ring.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/net/ip.h"
#include "test/harness/status_assertions.h"

namespace Catch {
template <>
struct StringMaker<weave::PeerName> {
  static std::string convert(weave::PeerName peer) { return peer.ToString(); }
};
template <>
struct StringMaker<weave::ipam::AddressRange> {
  static std::string convert(const weave::ipam::AddressRange& r) {
    return absl::StrCat("[", r.start, ", ", r.end, ")");
  }
};
template <>
struct StringMaker<weave::ipam::RingEntry> {
  static std::string convert(const weave::ipam::RingEntry& e) {
    return absl::StrCat("{", e.token, " ", e.peer.ToString(), " v", e.version, " free ", e.free,
                        "}");
  }
};
template <>
struct StringMaker<weave::ipam::Ring> {
  static std::string convert(const weave::ipam::Ring& ring) { return ring.ToString(); }
};
}  // namespace Catch

namespace weave::ipam {
namespace {

constexpr PeerName kA(0xa);
constexpr PeerName kB(0xb);
constexpr PeerName kC(0xc);
constexpr PeerName kD(0xd);
constexpr PeerName kE(0xe);
constexpr PeerName kObserver(0xff);

uint64_t Ip(const char* text) { return net::Ipv4::Parse(text)->value(); }

// 10.0.0.0/24, the universe most tests use.
const uint64_t kStart = Ip("10.0.0.0");
const uint64_t kEnd = kStart + 256;

// A ring as a peer would send it, validated like one.
Ring Make(uint64_t start, uint64_t end, PeerName self, const std::vector<RingEntry>& entries,
          const std::vector<PeerName>& seeds = {}) {
  v1::Ring proto;
  proto.set_start(static_cast<uint32_t>(start));
  proto.set_end(end);
  for (const RingEntry& e : entries) {
    v1::RingEntry* out = proto.add_entries();
    out->set_token(e.token);
    out->set_peer(e.peer.value());
    out->set_version(e.version);
    out->set_free(e.free);
  }
  for (PeerName seed : seeds) proto.add_seeds(seed.value());
  absl::StatusOr<Ring> ring = Ring::FromProto(proto, self);
  REQUIRE_OK(ring);
  return *std::move(ring);
}

Ring Make24(PeerName self, const std::vector<RingEntry>& entries) {
  return Make(kStart, kEnd, self, entries);
}

// An entry at kStart + offset.
RingEntry At(uint64_t offset, PeerName peer, uint32_t version, uint32_t free) {
  return RingEntry{static_cast<uint32_t>(kStart + offset), peer, version, free};
}

AddressRange Offsets(uint64_t from, uint64_t to) { return {kStart + from, kStart + to}; }

// Every address has exactly one owner: the peers' OwnedBy ranges tile the universe without
// overlap, agree with Owner and OwnershipSizes, and the ring survives its own validation.
void CheckPartition(const Ring& ring) {
  std::vector<std::pair<AddressRange, PeerName>> tiles;
  for (const auto& [peer, size] : ring.OwnershipSizes()) {
    uint64_t total = 0;
    for (const AddressRange& r : ring.OwnedBy(peer)) {
      REQUIRE(r.start < r.end);
      REQUIRE(ring.Owner(r.start) == peer);
      REQUIRE(ring.Owner(r.end - 1) == peer);
      tiles.emplace_back(r, peer);
      total += r.size();
    }
    REQUIRE(total == size);
  }
  std::sort(tiles.begin(), tiles.end(),
            [](const auto& a, const auto& b) { return a.first.start < b.first.start; });
  uint64_t next = ring.start();
  for (const auto& [range, peer] : tiles) {
    REQUIRE(range.start == next);
    next = range.end;
  }
  REQUIRE(next == (ring.Empty() ? ring.start() : ring.end()));
  absl::StatusOr<Ring> round_trip = Ring::FromProto(ring.ToProto(), ring.self());
  REQUIRE_OK(round_trip);
  REQUIRE(*round_trip == ring);
}

// Sizes of the peers' shares, in address order of their entries.
std::vector<uint64_t> Shares(const Ring& ring) {
  std::vector<uint64_t> shares;
  for (const RingEntry& e : ring.entries()) {
    uint64_t size = 0;
    for (const AddressRange& r : ring.OwnedBy(e.peer)) size += r.size();
    shares.push_back(size);
  }
  return shares;
}

// ---------------------------------------------------------------------------------------------
// ClaimForPeers

TEST_CASE("ClaimForPeers with one peer gives it the whole universe", "[ipam][ring]") {
  Ring ring(kStart, kStart + 16, kA);
  CHECK(ring.Empty());
  CHECK_FALSE(ring.Owner(kStart).has_value());
  ring.ClaimForPeers({kA});
  CHECK_FALSE(ring.Empty());
  CHECK(ring.entries() == std::vector<RingEntry>{{static_cast<uint32_t>(kStart), kA, 0, 16}});
  CHECK(ring.seeds() == std::vector<PeerName>{kA});
  CHECK(ring.Owned() == std::vector<AddressRange>{{kStart, kStart + 16}});
  CHECK(ring.Owner(kStart + 15) == kA);
  CHECK_FALSE(ring.Owner(kStart + 16).has_value());
  CHECK_FALSE(ring.Owner(kStart - 1).has_value());
  CheckPartition(ring);
}

TEST_CASE("ClaimForPeers halves a /28 between sorted and de-duplicated peers", "[ipam][ring]") {
  Ring ring(kStart, kStart + 16, kB);
  ring.ClaimForPeers({kC, kA, kB, kA});
  CHECK(ring.seeds() == std::vector<PeerName>{kA, kB, kC});
  CHECK(ring.entries() ==
        std::vector<RingEntry>{At(0, kA, 0, 8), At(8, kB, 0, 4), At(12, kC, 0, 4)});
  CHECK(ring.Owned() == std::vector<AddressRange>{Offsets(8, 12)});
  CheckPartition(ring);

  Ring two(kStart, kStart + 16, kA);
  two.ClaimForPeers({kB, kA});
  CHECK(two.entries() == std::vector<RingEntry>{At(0, kA, 0, 8), At(8, kB, 0, 8)});

  Ring five(kStart, kStart + 16, kA);
  five.ClaimForPeers({kA, kB, kC, kD, kE});
  // The first two peers share the lower half; the other three the upper half.
  CHECK(five.entries() == std::vector<RingEntry>{At(0, kA, 0, 4), At(4, kB, 0, 4), At(8, kC, 0, 4),
                                                 At(12, kD, 0, 2), At(14, kE, 0, 2)});
  CheckPartition(five);
}

TEST_CASE("ClaimForPeers splits a /12 by recursive halving", "[ipam][ring]") {
  const uint64_t start = Ip("10.32.0.0");
  const uint64_t end = start + (uint64_t{1} << 20);
  Ring three(start, end, kA);
  three.ClaimForPeers({kA, kB, kC});
  CHECK(Shares(three) == std::vector<uint64_t>{1 << 19, 1 << 18, 1 << 18});
  CheckPartition(three);

  Ring five(start, end, kA);
  five.ClaimForPeers({kA, kB, kC, kD, kE});
  CHECK(Shares(five) == std::vector<uint64_t>{1 << 18, 1 << 18, 1 << 18, 1 << 17, 1 << 17});
  CHECK(five.Owner(Ip("10.47.255.255")) == kE);
  CHECK(five.Owner(Ip("10.32.0.0")) == kA);
  CheckPartition(five);
}

TEST_CASE("ClaimForPeers on odd sizes covers every address exactly once", "[ipam][ring]") {
  const std::vector<PeerName> all = {
      kA, kB, kC, kD, kE, PeerName(0x10), PeerName(0x11), PeerName(0x12)};
  for (uint64_t size : {1, 2, 3, 5, 7, 11, 13, 100, 1021}) {
    for (size_t n : {1, 2, 3, 5, 8}) {
      CAPTURE(size, n);
      const uint64_t start = Ip("192.168.1.7");
      Ring ring(start, start + size, kA);
      ring.ClaimForPeers(std::vector<PeerName>(all.begin(), all.begin() + n));
      CheckPartition(ring);
      // A fresh ring has no allocations: every entry's free count is its whole range.
      uint64_t free = 0;
      for (const RingEntry& e : ring.entries()) {
        CHECK(e.version == 0);
        free += e.free;
      }
      CHECK(free == size);
      for (uint64_t address = start; address < start + size; ++address) {
        REQUIRE(ring.Owner(address).has_value());
      }
      if (size >= 2 * n) CHECK(ring.OwnershipSizes().size() == n);
    }
  }
}

TEST_CASE("ClaimForPeers gives the address an odd halving skips to the entry before it",
          "[ipam][ring]") {
  // 7 = 3 + (1 skipped) + 3; the upper 3 = 1 + (1 skipped) + 1.
  Ring ring(kStart, kStart + 7, kA);
  ring.ClaimForPeers({kA, kB, kC});
  CHECK(ring.entries() ==
        std::vector<RingEntry>{At(0, kA, 0, 4), At(4, kB, 0, 2), At(6, kC, 0, 1)});
}

// ---------------------------------------------------------------------------------------------
// Ownership queries

TEST_CASE("Owner and OwnedBy follow the last entry round the universe end", "[ipam][ring]") {
  const uint64_t end = kStart + 100;
  Ring ring = Make(kStart, end, kA, {At(10, kA, 0, 40), At(50, kB, 0, 20), At(70, kA, 0, 40)});
  // A owns [10, 50) and, through its entry at 70, [70, 100) and [0, 10).
  CHECK(ring.Owned() == std::vector<AddressRange>{Offsets(0, 50), Offsets(70, 100)});
  CHECK(ring.OwnedBy(kB) == std::vector<AddressRange>{Offsets(50, 70)});
  CHECK(ring.OwnedBy(kC).empty());
  CHECK(ring.Owner(kStart) == kA);
  CHECK(ring.Owner(kStart + 49) == kA);
  CHECK(ring.Owner(kStart + 50) == kB);
  CHECK(ring.Owner(kStart + 69) == kB);
  CHECK(ring.Owner(kStart + 99) == kA);
  CHECK_FALSE(ring.Owner(kStart + 100).has_value());
  CHECK(ring.OwnershipSizes() == std::map<PeerName, uint64_t>{{kA, 80}, {kB, 20}});
  CHECK(ring.EntrySize(0) == 40);
  CHECK(ring.EntrySize(2) == 40);  // [70, 100) and [0, 10)
  CheckPartition(ring);
}

TEST_CASE("A universe ending at 2^32 works like any other", "[ipam][ring]") {
  const uint64_t start = Ip("240.0.0.0");
  const uint64_t end = uint64_t{1} << 32;
  Ring ring(start, end, kA);
  ring.ClaimForPeers({kA, kB});
  CHECK(ring.Owner(Ip("255.255.255.255")) == kB);
  ring.GrantRangeToHost(start + (uint64_t{1} << 26), start + (uint64_t{1} << 27), kC);
  CHECK(ring.OwnedBy(kC) == std::vector<AddressRange>{{Ip("244.0.0.0"), Ip("248.0.0.0")}});
  CheckPartition(ring);

  Ring b(start, end, kB);
  REQUIRE_OK(b.Merge(ring));
  CHECK(b.Owned() == std::vector<AddressRange>{{Ip("248.0.0.0"), end}});
}

// ---------------------------------------------------------------------------------------------
// Merge: the ordinary cases

TEST_CASE("Merge adopts another replica and a second merge changes nothing", "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA, kB});
  Ring b(kStart, kEnd, kB);

  absl::StatusOr<bool> changed = b.Merge(a);
  REQUIRE_OK(changed);
  CHECK(*changed);
  CHECK(b == a);
  CHECK(b.seeds() == std::vector<PeerName>{kA, kB});
  CHECK(b.Owned() == std::vector<AddressRange>{Offsets(128, 256)});

  changed = b.Merge(a);
  REQUIRE_OK(changed);
  CHECK_FALSE(*changed);

  // An empty replica (a peer that has not joined yet) brings nothing.
  Ring empty(kStart, kEnd, kC);
  changed = b.Merge(empty);
  REQUIRE_OK(changed);
  CHECK_FALSE(*changed);
  CHECK(b == a);
}

TEST_CASE("Merge takes the higher version then the higher free count then the higher peer",
          "[ipam][ring]") {
  Ring ring = Make24(kObserver, {At(0, kA, 2, 10), At(64, kB, 5, 10), At(128, kC, 1, 10)});
  Ring other = Make24(kObserver, {At(0, kD, 3, 0), At(64, kC, 5, 11), At(128, kD, 1, 10)});
  Ring forward = ring;
  Ring backward = other;
  REQUIRE_OK(forward.Merge(other));
  REQUIRE_OK(backward.Merge(ring));
  CHECK(forward.entries() ==
        std::vector<RingEntry>{At(0, kD, 3, 0), At(64, kC, 5, 11), At(128, kD, 1, 10)});
  CHECK(forward == backward);
}

TEST_CASE("Merge clamps free counts of entries split by new tokens", "[ipam][ring]") {
  // B's entry keeps the higher free count of the tie, but C's token now ends it at 192.
  Ring ring = Make24(kObserver, {At(0, kA, 0, 128), At(128, kB, 0, 128)});
  Ring other = Make24(kObserver, {At(0, kA, 0, 128), At(128, kB, 0, 60), At(192, kC, 0, 64)});
  REQUIRE_OK(ring.Merge(other));
  CHECK(ring.entries() ==
        std::vector<RingEntry>{At(0, kA, 0, 128), At(128, kB, 0, 64), At(192, kC, 0, 64)});
  CheckPartition(ring);

  // An entry of ours split while it has no allocations: accepted, its free count clamped.
  Ring ours = Make24(kA, {At(0, kA, 0, 256)});
  Ring split = Make24(kB, {At(0, kA, 0, 128), At(128, kB, 0, 128)});
  absl::StatusOr<bool> changed = ours.Merge(split);
  REQUIRE_OK(changed);
  CHECK(*changed);
  CHECK(ours.entries() == std::vector<RingEntry>{At(0, kA, 0, 128), At(128, kB, 0, 128)});
  CheckPartition(ours);
}

TEST_CASE("Merge answers a newer version of our own entry with a version above it",
          "[ipam][ring]") {
  Ring ring = Make24(kA, {At(0, kA, 3, 250)});
  Ring other = Make24(kB, {At(0, kA, 7, 256)});
  absl::StatusOr<bool> changed = ring.Merge(other);
  REQUIRE_OK(changed);
  CHECK(*changed);
  // Our knowledge of our allocations (free 250) stands, at a version that beats theirs.
  CHECK(ring.entries() == std::vector<RingEntry>{At(0, kA, 8, 250)});
  changed = ring.Merge(other);
  REQUIRE_OK(changed);
  CHECK_FALSE(*changed);

  // And the peer that had the stale copy takes ours.
  REQUIRE_OK(other.Merge(ring));
  CHECK(other == ring);
}

// ---------------------------------------------------------------------------------------------
// Merge: errors, each leaving the ring as it was

// Merges `other` into `ring`, expects FailedPrecondition with `message`, and that nothing
// changed.
void CheckRefused(Ring& ring, const Ring& other, const std::string& message) {
  const Ring before = ring;
  absl::StatusOr<bool> result = ring.Merge(other);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(result.status().message()) == message);
  CHECK(ring == before);
  CHECK(ring.entries() == before.entries());
}

TEST_CASE("Merge refuses a ring seeded by different peers", "[ipam][ring]") {
  Ring ours(kStart, kEnd, kA);
  ours.ClaimForPeers({kA, kB});
  Ring theirs(kStart, kEnd, kC);
  theirs.ClaimForPeers({kC});
  CheckRefused(ours, theirs,
               "IP allocation was seeded by different peers (ours: 00:00:00:00:00:0a,"
               "00:00:00:00:00:0b; theirs: 00:00:00:00:00:0c)");

  // The operator's way out: this side yields, drops its ring and takes theirs.
  ours.Clear();
  CHECK(ours.Empty());
  CHECK(ours.seeds().empty());
  absl::StatusOr<bool> changed = ours.Merge(theirs);
  REQUIRE_OK(changed);
  CHECK(*changed);
  CHECK(ours == theirs);
  CHECK(ours.Owned().empty());
}

TEST_CASE("Merge adopts seeds while it has none", "[ipam][ring]") {
  Ring unseeded = Make24(kB, {At(0, kA, 0, 256)});
  Ring seeded(kStart, kEnd, kA);
  seeded.ClaimForPeers({kA});
  absl::StatusOr<bool> changed = unseeded.Merge(seeded);
  REQUIRE_OK(changed);
  CHECK(*changed);  // only the seeds differed
  CHECK(unseeded.seeds() == std::vector<PeerName>{kA});
}

TEST_CASE("Merge refuses a ring over another universe", "[ipam][ring]") {
  Ring ours(kStart, kEnd, kA);
  ours.ClaimForPeers({kA});
  Ring theirs(kStart, kStart + 16, kB);
  theirs.ClaimForPeers({kA});
  CheckRefused(ours, theirs,
               "IP allocation has a different range (ours: 10.0.0.0-10.0.0.255; theirs: "
               "10.0.0.0-10.0.0.15)");
  Ring empty_elsewhere(kStart + 256, kEnd + 256, kB);
  CheckRefused(ours, empty_elsewhere,
               "IP allocation has a different range (ours: 10.0.0.0-10.0.0.255; theirs: "
               "10.0.1.0-10.0.1.255)");
}

TEST_CASE("Merge refuses a token that splits a range of ours with allocations", "[ipam][ring]") {
  // Our entry reports 250 of 256 free: six addresses are allocated somewhere in it.
  Ring ours = Make24(kA, {At(0, kA, 2, 250)});
  Ring theirs = Make24(kB, {At(0, kA, 1, 128), At(128, kB, 0, 128)});
  CheckRefused(ours, theirs,
               "Peer 00:00:00:00:00:0b says it owns the IP range from 10.0.0.128, which I think "
               "I own");

  // Without allocations the same split is accepted.
  Ring idle = Make24(kA, {At(0, kA, 2, 256)});
  REQUIRE_OK(idle.Merge(theirs));
  CHECK(idle.Owned() == std::vector<AddressRange>{Offsets(0, 128)});
}

TEST_CASE("Merge refuses a token that splits the part of our last entry past the universe end",
          "[ipam][ring]") {
  // Our entry at 192 owns [192, 256) and wraps to [0, 64); B owns [64, 192).
  Ring ours = Make24(kA, {At(64, kB, 0, 128), At(192, kA, 1, 100)});
  Ring theirs = Make24(kC, {At(32, kC, 0, 32), At(64, kB, 0, 128), At(192, kA, 0, 96)});
  CheckRefused(ours, theirs,
               "Peer 00:00:00:00:00:0c says it owns the IP range from 10.0.0.32, which I think "
               "I own");
}

TEST_CASE("Merge refuses a newer version that gives away a range of ours with allocations",
          "[ipam][ring]") {
  Ring ours = Make24(kA, {At(0, kA, 1, 128), At(128, kB, 0, 128)});
  REQUIRE(ours.ReportFree({{static_cast<uint32_t>(kStart), 120}}));  // v2, 8 allocated
  Ring theirs = Make24(kB, {At(0, kB, 5, 128), At(128, kB, 0, 128)});
  CheckRefused(ours, theirs,
               "Received update for IP range I own at 10.0.0.0 v2: incoming message says owner "
               "00:00:00:00:00:0b v5");

  Ring idle = Make24(kA, {At(0, kA, 2, 128), At(128, kB, 0, 128)});
  absl::StatusOr<bool> changed = idle.Merge(theirs);
  REQUIRE_OK(changed);
  CHECK(*changed);
  CHECK(idle.Owned().empty());
  CHECK(idle.Owner(kStart) == kB);
}

TEST_CASE("Merge refuses equal versions of an entry of ours with other content", "[ipam][ring]") {
  Ring ours = Make24(kA, {At(0, kA, 3, 200)});
  CheckRefused(ours, Make24(kB, {At(0, kB, 3, 256)}),
               "Inconsistent entries for 10.0.0.0: owned by 00:00:00:00:00:0a (free 200) but "
               "incoming message says 00:00:00:00:00:0b (free 256)");
  // Even when it still names us, a different free count at the same version is a lost edit.
  CheckRefused(ours, Make24(kB, {At(0, kA, 3, 210)}),
               "Inconsistent entries for 10.0.0.0: owned by 00:00:00:00:00:0a (free 200) but "
               "incoming message says 00:00:00:00:00:0a (free 210)");

  // Without allocations the tie-break decides: equal free counts, so the higher peer name.
  Ring idle = Make24(kA, {At(0, kA, 3, 256)});
  REQUIRE_OK(idle.Merge(Make24(kB, {At(0, kB, 3, 256)})));
  CHECK(idle.Owner(kStart) == kB);
}

TEST_CASE("Merge asks the allocation probe about exactly the addresses that change hands",
          "[ipam][ring]") {
  Ring theirs = Make24(kB, {At(0, kA, 1, 128), At(128, kB, 0, 128)});
  std::vector<std::vector<AddressRange>> asked;
  auto probe = [&](bool answer) {
    return [&asked, answer](const std::vector<AddressRange>& ranges) {
      asked.push_back(ranges);
      return answer;
    };
  };

  // The free count says six addresses are allocated, but the allocator knows they are all
  // below 10.0.0.128: the split is safe.
  Ring ours = Make24(kA, {At(0, kA, 2, 250)});
  absl::StatusOr<bool> changed = ours.Merge(theirs, probe(false));
  REQUIRE_OK(changed);
  CHECK(*changed);
  CHECK(asked == std::vector<std::vector<AddressRange>>{{Offsets(128, 256)}});
  CHECK(ours.Owned() == std::vector<AddressRange>{Offsets(0, 128)});

  asked.clear();
  Ring busy = Make24(kA, {At(0, kA, 2, 256)});  // free counts not reported yet
  const Ring before = busy;
  CHECK_FALSE(busy.Merge(theirs, probe(true)).ok());
  CHECK(busy == before);
  CHECK(asked == std::vector<std::vector<AddressRange>>{{Offsets(128, 256)}});
}

TEST_CASE("A peer restarted from stale state detects the range it donated meanwhile",
          "[ipam][ring]") {
  // Field survey pain point 2: a peer loses its latest state and re-allocates addresses it
  // had given away. The merge must refuse rather than let two peers own them.
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA});
  const Ring persisted = a;
  a.GrantRangeToHost(kStart + 128, kEnd, kB);
  Ring b(kStart, kEnd, kB);
  REQUIRE_OK(b.Merge(a));
  REQUIRE(b.ReportFree({{static_cast<uint32_t>(kStart + 128), 100}}));  // B allocates

  Ring restarted = persisted;
  REQUIRE(restarted.ReportFree({{static_cast<uint32_t>(kStart), 255}}));  // A allocates (v1)
  REQUIRE(restarted.ReportFree({{static_cast<uint32_t>(kStart), 254}}));  // and again (v2)
  CheckRefused(restarted, b,
               "Peer 00:00:00:00:00:0b says it owns the IP range from 10.0.0.128, which I think "
               "I own");
}

// ---------------------------------------------------------------------------------------------
// Donation

TEST_CASE("GrantRangeToHost then merge elsewhere moves ownership", "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA, kB});
  Ring b(kStart, kEnd, kB);
  REQUIRE_OK(b.Merge(a));
  Ring c(kStart, kEnd, kC);  // joined later, owns nothing

  a.GrantRangeToHost(kStart + 64, kStart + 128, kC);
  CHECK(a.entries() ==
        std::vector<RingEntry>{At(0, kA, 1, 64), At(64, kC, 0, 64), At(128, kB, 0, 128)});
  CHECK(a.Owned() == std::vector<AddressRange>{Offsets(0, 64)});

  REQUIRE_OK(c.Merge(a));
  CHECK(c.Owned() == std::vector<AddressRange>{Offsets(64, 128)});
  REQUIRE_OK(b.Merge(c));
  CHECK(b.Owner(kStart + 100) == kC);
  CHECK(b == a);
  CheckPartition(b);
}

TEST_CASE("GrantRangeToHost inside an entry keeps its allocations on our side", "[ipam][ring]") {
  Ring a = Make24(kA, {At(0, kA, 4, 120), At(128, kB, 0, 128)});  // 8 allocated in [0, 128)
  a.GrantRangeToHost(kStart + 32, kStart + 48, kC);
  // Donated addresses are free; each piece we keep may hold all 8 allocations.
  CHECK(a.entries() == std::vector<RingEntry>{At(0, kA, 5, 24), At(32, kC, 0, 16),
                                              At(48, kA, 0, 72), At(128, kB, 0, 128)});
  CheckPartition(a);

  // One piece kept: its count is exact.
  Ring one = Make24(kA, {At(0, kA, 0, 120), At(128, kB, 0, 128)});
  one.GrantRangeToHost(kStart + 64, kStart + 128, kC);
  CHECK(one.entries() ==
        std::vector<RingEntry>{At(0, kA, 1, 56), At(64, kC, 0, 64), At(128, kB, 0, 128)});
}

TEST_CASE("GrantRangeToHost of several entries gives every token inside away", "[ipam][ring]") {
  Ring a =
      Make24(kA, {At(0, kA, 0, 64), At(64, kA, 3, 64), At(128, kA, 1, 64), At(192, kB, 0, 64)});
  a.GrantRangeToHost(kStart + 32, kStart + 160, kC);
  CHECK(a.entries() == std::vector<RingEntry>{At(0, kA, 1, 32), At(32, kC, 0, 32),
                                              At(64, kC, 4, 64), At(128, kC, 2, 32),
                                              At(160, kA, 0, 32), At(192, kB, 0, 64)});
  CHECK(a.OwnedBy(kC) == std::vector<AddressRange>{Offsets(32, 160)});
  CheckPartition(a);
}

TEST_CASE("GrantRangeToHost up to the universe end puts the end token at its start",
          "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA});
  a.GrantRangeToHost(kStart + 192, kEnd, kB);
  CHECK(a.entries() == std::vector<RingEntry>{At(0, kA, 1, 192), At(192, kB, 0, 64)});

  // With no token at the universe start, one owned by us is inserted there.
  Ring wrapped = Make24(kA, {At(64, kA, 0, 256)});
  wrapped.GrantRangeToHost(kStart + 200, kEnd, kB);
  CHECK(wrapped.entries() ==
        std::vector<RingEntry>{At(0, kA, 0, 64), At(64, kA, 1, 136), At(200, kB, 0, 56)});
  CHECK(wrapped.Owned() == std::vector<AddressRange>{Offsets(0, 200)});
  CheckPartition(wrapped);
}

TEST_CASE("GrantRangeToHost before the first token splits the wrapping entry", "[ipam][ring]") {
  Ring a = Make24(kA, {At(64, kA, 0, 256)});
  a.GrantRangeToHost(kStart, kStart + 32, kB);
  CHECK(a.entries() ==
        std::vector<RingEntry>{At(0, kB, 0, 32), At(32, kA, 0, 32), At(64, kA, 1, 192)});
  CHECK(a.OwnedBy(kB) == std::vector<AddressRange>{Offsets(0, 32)});
  CHECK(a.Owned() == std::vector<AddressRange>{Offsets(32, 256)});
  CheckPartition(a);
}

// ---------------------------------------------------------------------------------------------
// Transfer, ReportFree, ChoosePeersToAskForSpace

TEST_CASE("Transfer beats a concurrent lower-version edit", "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA, kB});
  Ring b(kStart, kEnd, kB);
  REQUIRE_OK(b.Merge(a));

  // B allocates (v1) while A, believing B gone, takes B's range over (v0 + 100).
  REQUIRE(b.ReportFree({{static_cast<uint32_t>(kStart + 128), 120}}));
  CHECK(a.Transfer(kB, kA) == 128);
  CHECK(a.entries() == std::vector<RingEntry>{At(0, kA, 0, 128), At(128, kA, 100, 128)});

  for (bool a_first : {true, false}) {
    Ring observer(kStart, kEnd, kObserver);
    REQUIRE_OK(observer.Merge(a_first ? a : b));
    REQUIRE_OK(observer.Merge(a_first ? b : a));
    CHECK(observer.Owner(kStart + 200) == kA);
    CHECK(observer.entries()[1] == At(128, kA, 100, 128));
  }
  absl::StatusOr<bool> changed = a.Merge(b);
  REQUIRE_OK(changed);
  CHECK_FALSE(*changed);

  // B, alive after all and holding addresses there, refuses rather than lose them.
  CheckRefused(b, a,
               "Received update for IP range I own at 10.0.0.128 v1: incoming message says owner "
               "00:00:00:00:00:0a v100");
}

// A limit the callers must know: Transfer works on the transferring replica's view. If the dead
// peer gave a range away and that news never reached the replica running rmpeer, the transfer
// outbids the gift. The recipient refuses (it holds addresses there); the transferrer can't tell.
TEST_CASE("Transfer from a stale replica outbids a donation the dead peer made", "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA, kB});
  Ring b(kStart, kEnd, kB);
  REQUIRE_OK(b.Merge(a));
  b.GrantRangeToHost(kStart + 128, kEnd, kD);  // B's last act: all its space to D
  Ring d(kStart, kEnd, kD);
  REQUIRE_OK(d.Merge(b));
  REQUIRE(d.ReportFree({{static_cast<uint32_t>(kStart + 128), 120}}));  // D allocates (v2)

  CHECK(a.Transfer(kB, kA) == 128);  // A never heard of the donation
  CheckRefused(d, a,
               "Received update for IP range I own at 10.0.0.128 v2: incoming message says owner "
               "00:00:00:00:00:0a v100");
  absl::StatusOr<bool> changed = a.Merge(d);
  REQUIRE_OK(changed);
  CHECK_FALSE(*changed);
  CHECK(a.Owner(kStart + 128) == kA);  // while D holds addresses there
}

TEST_CASE("Transfer moves nothing from a peer to itself or from a stranger", "[ipam][ring]") {
  Ring a(kStart, kEnd, kA);
  a.ClaimForPeers({kA, kB});
  const Ring before = a;
  CHECK(a.Transfer(kB, kB) == 0);
  CHECK(a.Transfer(kC, kA) == 0);
  CHECK(a == before);
  CHECK(a.Transfer(kA, kC) == 128);  // shutdown: our ranges to an heir
  CHECK(a.Owned().empty());
  CHECK(a.OwnedBy(kC) == std::vector<AddressRange>{Offsets(0, 128)});
}

TEST_CASE("ReportFree bumps the versions of changed entries only", "[ipam][ring]") {
  Ring a =
      Make24(kA, {At(0, kA, 0, 64), At(64, kB, 0, 64), At(128, kA, 0, 64), At(192, kB, 0, 64)});
  const uint32_t t0 = static_cast<uint32_t>(kStart);
  const uint32_t t128 = static_cast<uint32_t>(kStart + 128);
  CHECK(a.ReportFree({{t0, 60}}));
  CHECK(a.entries()[0] == At(0, kA, 1, 60));
  CHECK(a.entries()[2] == At(128, kA, 0, 64));
  CHECK_FALSE(a.ReportFree({{t0, 60}}));
  CHECK(a.entries()[0].version == 1);
  CHECK(a.ReportFree({{t0, 60}, {t128, 50}}));
  CHECK(a.entries()[0] == At(0, kA, 1, 60));
  CHECK(a.entries()[2] == At(128, kA, 1, 50));
}

TEST_CASE("ReportFree by range asks about both pieces of an entry that wraps", "[ipam][ring]") {
  Ring a = Make24(kA, {At(10, kB, 0, 60), At(70, kA, 0, 196)});
  std::vector<AddressRange> asked;
  CHECK(a.ReportFree([&](const AddressRange& range) -> uint64_t {
    asked.push_back(range);
    return range.size() - 1;  // one allocated in each piece
  }));
  CHECK(asked == std::vector<AddressRange>{Offsets(0, 10), Offsets(70, 256)});
  CHECK(a.entries()[1] == At(70, kA, 1, 194));
  CHECK(a.entries()[0] == At(10, kB, 0, 60));  // not ours: untouched
}

TEST_CASE("ChoosePeersToAskForSpace skips us and peers without free space", "[ipam][ring]") {
  Ring ring =
      Make24(kA, {At(0, kA, 0, 10), At(64, kB, 0, 0), At(128, kC, 0, 60), At(192, kD, 0, 30)});
  auto always = [](double value) { return [value] { return value; }; };
  CHECK(ring.ChoosePeersToAskForSpace(kStart, kEnd, always(1.0)) == std::vector<PeerName>{kC, kD});

  // random01 is drawn per candidate in peer order (C, then D): 30 x 1.0 beats 60 x 0.1.
  std::vector<double> draws = {0.1, 1.0};
  size_t calls = 0;
  CHECK(ring.ChoosePeersToAskForSpace(kStart, kEnd, [&] { return draws[calls++]; }) ==
        std::vector<PeerName>{kD, kC});
  CHECK(calls == 2);

  CHECK(ring.ChoosePeersToAskForSpace(kStart + 128, kStart + 160, always(0.5)) ==
        std::vector<PeerName>{kC});
  CHECK(ring.ChoosePeersToAskForSpace(kStart, kStart + 128, always(0.5)).empty());
  // C's two addresses in the range weigh two, not its whole free count: D's 30 wins.
  CHECK(ring.ChoosePeersToAskForSpace(kStart + 190, kEnd, always(1.0)) ==
        std::vector<PeerName>{kD, kC});
  CHECK(ring.ChoosePeersToAskForSpace(kStart - 10, kStart, always(1.0)).empty());
  CHECK(Ring(kStart, kEnd, kA).ChoosePeersToAskForSpace(kStart, kEnd, always(1.0)).empty());
}

// ---------------------------------------------------------------------------------------------
// Wire form

TEST_CASE("ToProto and FromProto round-trip a ring and an empty one", "[ipam][ring]") {
  Ring ring(kStart, kEnd, kA);
  ring.ClaimForPeers({kA, kB, kC});
  ring.GrantRangeToHost(kStart + 10, kStart + 20, kD);
  absl::StatusOr<Ring> copy = Ring::FromProto(ring.ToProto(), kB);
  REQUIRE_OK(copy);
  CHECK(*copy == ring);
  CHECK(copy->self() == kB);

  Ring empty(kStart, kEnd, kA);
  absl::StatusOr<Ring> empty_copy = Ring::FromProto(empty.ToProto(), kA);
  REQUIRE_OK(empty_copy);
  CHECK(empty_copy->Empty());
  CHECK(*empty_copy == empty);
}

TEST_CASE("FromProto rejects garbage with a one-line reason", "[ipam][ring]") {
  const v1::Ring valid = Make24(kA, {At(0, kA, 0, 64), At(64, kB, 0, 192)}).ToProto();
  REQUIRE_OK(Ring::FromProto(valid, kA));

  struct Case {
    const char* name;
    std::function<void(v1::Ring&)> corrupt;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"unsorted", [](v1::Ring& p) { p.mutable_entries()->SwapElements(0, 1); }, "out of order"},
      {"duplicate", [](v1::Ring& p) { p.mutable_entries(1)->set_token(p.entries(0).token()); },
       "appears twice"},
      {"below start", [](v1::Ring& p) { p.mutable_entries(0)->set_token(kStart - 1); },
       "outside the range"},
      {"past end", [](v1::Ring& p) { p.mutable_entries(1)->set_token(kEnd); }, "outside the range"},
      {"free too big", [](v1::Ring& p) { p.mutable_entries(0)->set_free(65); },
       "reports 65 free addresses but its range holds 64"},
      {"zero peer", [](v1::Ring& p) { p.mutable_entries(1)->set_peer(0); }, "peer name 0"},
      {"wide peer", [](v1::Ring& p) { p.mutable_entries(0)->set_peer(uint64_t{1} << 48); },
       "longer than 48 bits"},
      {"empty range", [](v1::Ring& p) { p.set_end(p.start()); }, "is empty or not within IPv4"},
      {"range past IPv4", [](v1::Ring& p) { p.set_end((uint64_t{1} << 32) + 1); },
       "is empty or not within IPv4"},
      {"all of IPv4",
       [](v1::Ring& p) {
         p.set_start(0);
         p.set_end(uint64_t{1} << 32);
       },
       "is empty or not within IPv4"},
      {"zero seed", [](v1::Ring& p) { p.add_seeds(0); }, "seed 0"},
      {"unsorted seeds",
       [](v1::Ring& p) {
         p.add_seeds(kB.value());
         p.add_seeds(kA.value());
       },
       "out of order"},
      {"repeated seed",
       [](v1::Ring& p) {
         p.add_seeds(kA.value());
         p.add_seeds(kA.value());
       },
       "repeated"},
      {"seeds without entries",
       [](v1::Ring& p) {
         p.clear_entries();
         p.add_seeds(kA.value());
       },
       "seeds without entries"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    v1::Ring proto = valid;
    c.corrupt(proto);
    absl::StatusOr<Ring> ring = Ring::FromProto(proto, kA);
    REQUIRE_FALSE(ring.ok());
    CHECK(ring.status().code() == absl::StatusCode::kInvalidArgument);
    std::string message(ring.status().message());
    CHECK(message.find(c.says) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Randomised: a cluster of peers allocating, donating, gossiping and removing dead peers

// Peers with replicas and simulated allocators. Every peer follows the allocator's protocol:
// it allocates only in ranges its own replica says it owns, reports free counts after every
// step, donates only free addresses, and asks donors chosen by the ring when it runs out.
class Cluster {
 public:
  struct Peer {
    PeerName name;
    Ring ring;
    std::set<uint64_t> allocated;
    bool alive = true;
  };

  Cluster(uint64_t start, uint64_t end, const std::vector<PeerName>& seeds,
          const std::vector<PeerName>& joiners, uint32_t seed)
      : start_(start), end_(end), rng_(seed) {
    for (PeerName name : seeds) {
      peers_.push_back(Peer{name, Ring(start, end, name), {}, true});
      peers_.back().ring.ClaimForPeers(seeds);  // what consensus does on every seed
    }
    for (PeerName name : joiners) peers_.push_back(Peer{name, Ring(start, end, name), {}, true});
  }

  // One random action by a random live peer; checks the invariants afterwards.
  void Step() {
    Peer& p = RandomLivePeer();
    int action = Uniform(0, 9);
    if (action < 4) {
      Allocate(p);
    } else if (action < 6) {
      Release(p);
    } else if (action < 9) {
      Gossip(RandomLivePeer(), p);
    } else if (Uniform(0, 5) == 0) {
      RemoveDeadPeer(p);
    }
    CheckNoDuplicates();
  }

  // Gossip between all live peers until nothing changes; then every replica must agree.
  void Converge() {
    for (int round = 0; round < 20; ++round) {
      bool changed = false;
      for (Peer& to : peers_) {
        for (Peer& from : peers_) {
          if (!to.alive || !from.alive || &to == &from) continue;
          changed |= Gossip(from, to);
        }
      }
      if (!changed) break;
    }
    const Ring* first = nullptr;
    for (const Peer& p : peers_) {
      if (!p.alive) continue;
      if (first == nullptr) first = &p.ring;
      REQUIRE(p.ring == *first);
      CheckPartition(p.ring);
    }
    CheckNoDuplicates();
  }

  Ring SnapshotOfRandomPeer() { return RandomLivePeer().ring; }
  size_t TotalAllocated() const {
    size_t total = 0;
    for (const Peer& p : peers_) total += p.allocated.size();
    return total;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Random01() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  Peer& RandomLivePeer() {
    while (true) {
      Peer& p = peers_[Uniform(0, static_cast<int>(peers_.size()) - 1)];
      if (p.alive) return p;
    }
  }
  Peer* Find(PeerName name) {
    for (Peer& p : peers_) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }

  void ReportFree(Peer& p) {
    p.ring.ReportFree([&](const AddressRange& r) {
      auto first = p.allocated.lower_bound(r.start);
      auto last = p.allocated.lower_bound(r.end);
      return r.size() - static_cast<uint64_t>(std::distance(first, last));
    });
  }

  bool Gossip(Peer& from, Peer& to) {
    if (&from == &to) return false;
    absl::StatusOr<bool> changed = to.ring.Merge(from.ring);
    INFO("merging " << from.ring.ToString() << "\ninto " << to.ring.ToString());
    REQUIRE_OK(changed);
    ReportFree(to);
    return *changed;
  }

  void Allocate(Peer& p) {
    for (const AddressRange& r : p.ring.Owned()) {
      for (uint64_t a = r.start; a < r.end; ++a) {
        if (p.allocated.insert(a).second) {
          ReportFree(p);
          return;
        }
      }
    }
    AskForSpace(p);
  }

  void Release(Peer& p) {
    if (p.allocated.empty()) return;
    auto it = p.allocated.begin();
    std::advance(it, Uniform(0, static_cast<int>(p.allocated.size()) - 1));
    p.allocated.erase(it);
    ReportFree(p);
  }

  // The space request and its answer: the first donor with free space grants part of its
  // largest free run and unicasts its ring back.
  void AskForSpace(Peer& p) {
    if (p.ring.Empty()) return;  // the real allocator waits for the ring
    for (PeerName name :
         p.ring.ChoosePeersToAskForSpace(start_, end_, [&] { return Random01(); })) {
      Peer* donor = Find(name);
      if (donor == nullptr || !donor->alive) continue;
      std::optional<AddressRange> run = LargestFreeRun(*donor);
      if (!run) continue;
      uint64_t from = run->size() >= 2 ? run->start + run->size() / 2 : run->start;
      donor->ring.GrantRangeToHost(from, run->end, p.name);
      ReportFree(*donor);
      Gossip(*donor, p);
      return;
    }
  }

  std::optional<AddressRange> LargestFreeRun(const Peer& p) const {
    std::optional<AddressRange> best;
    for (const AddressRange& r : p.ring.Owned()) {
      uint64_t run_start = r.start;
      for (uint64_t a = r.start; a <= r.end; ++a) {
        if (a < r.end && !p.allocated.count(a)) continue;
        if (a > run_start && (!best || a - run_start > best->size())) best = {run_start, a};
        run_start = a + 1;
      }
    }
    return best;
  }

  // A peer's node is deleted: its allocations vanish with it, and a survivor whose replica
  // has its last state (rmpeer after the peer's final gossip) takes its ranges.
  void RemoveDeadPeer(Peer& dead) {
    int alive = 0;
    for (const Peer& p : peers_) alive += p.alive;
    if (alive <= 2 || dead.ring.Empty()) return;
    Peer* heir = nullptr;
    for (Peer& p : peers_) {
      if (p.alive && &p != &dead) {
        Gossip(dead, p);
        if (heir == nullptr || Uniform(0, 1) == 0) heir = &p;
      }
    }
    dead.alive = false;
    dead.allocated.clear();
    heir->ring.Transfer(dead.name, heir->name);
    ReportFree(*heir);
  }

  // The property the ring exists for: no address is allocated by two live peers, and every
  // allocation lies in its holder's own view of what it owns.
  void CheckNoDuplicates() {
    std::map<uint64_t, PeerName> holder;
    for (const Peer& p : peers_) {
      if (!p.alive) continue;
      for (uint64_t a : p.allocated) {
        auto [it, fresh] = holder.emplace(a, p.name);
        INFO("address " << a << " held by " << it->second.ToString() << " and "
                        << p.name.ToString());
        REQUIRE(fresh);
        REQUIRE(p.ring.Owner(a) == p.name);
      }
    }
  }

  uint64_t start_;
  uint64_t end_;
  std::mt19937 rng_;
  std::vector<Peer> peers_;
};

TEST_CASE("Simulated peers never hold an address twice and their replicas converge",
          "[ipam][ring]") {
  size_t allocated = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    CAPTURE(seed);
    // A /26 so that space runs out and donations happen; an odd size every other run.
    const uint64_t end = kStart + (seed % 2 == 0 ? 64 : 61);
    Cluster cluster(kStart, end, {kA, kB, kC}, {kD, kE}, seed);
    for (int step = 0; step < 400; ++step) cluster.Step();
    cluster.Converge();
    allocated += cluster.TotalAllocated();
  }
  CHECK(allocated > 500);  // the runs did allocate, and so exercised donation
}

// Replicas taken from a running cluster at different times: the observer's merge of all of them
// must not depend on order or grouping, and merging anything twice changes nothing.
TEST_CASE("Merge is commutative associative and idempotent over randomised replicas",
          "[ipam][ring]") {
  for (uint32_t seed = 100; seed < 110; ++seed) {
    CAPTURE(seed);
    Cluster cluster(kStart, kStart + 64, {kA, kB, kC}, {kD, kE}, seed);
    std::vector<Ring> replicas;
    for (int i = 0; i < 5; ++i) {
      for (int step = 0; step < 60; ++step) cluster.Step();
      replicas.push_back(cluster.SnapshotOfRandomPeer());
    }

    std::vector<size_t> order = {0, 1, 2, 3, 4};
    std::optional<Ring> expected;
    do {
      Ring observer(kStart, kStart + 64, kObserver);
      for (size_t i : order) REQUIRE_OK(observer.Merge(replicas[i]));
      if (!expected) expected = observer;
      REQUIRE(observer == *expected);
    } while (std::next_permutation(order.begin(), order.end()));

    for (const Ring& replica : replicas) {
      Ring again = *expected;
      absl::StatusOr<bool> changed = again.Merge(replica);
      REQUIRE_OK(changed);
      CHECK_FALSE(*changed);
    }

    // Grouping: (0 1) (2 (3 4)) merged as groups gives the same ring.
    auto merged = [&](std::vector<const Ring*> rings) {
      Ring observer(kStart, kStart + 64, kObserver);
      for (const Ring* r : rings) REQUIRE_OK(observer.Merge(*r));
      return observer;
    };
    Ring left = merged({&replicas[0], &replicas[1]});
    Ring inner = merged({&replicas[3], &replicas[4]});
    Ring right = merged({&replicas[2], &inner});
    CHECK(merged({&right, &left}) == *expected);

    // A live peer merging them all in any order also lands on one ring. (An old replica of a
    // peer removed since would rightly refuse the transfer of its ranges.)
    const Ring mine = cluster.SnapshotOfRandomPeer();
    std::optional<Ring> participant;
    std::sort(order.begin(), order.end());
    do {
      Ring ring = mine;
      for (size_t i : order) REQUIRE_OK(ring.Merge(replicas[i]));
      if (!participant) participant = ring;
      REQUIRE(ring == *participant);
    } while (std::next_permutation(order.begin(), order.end()));
  }
}

}  // namespace
}  // namespace weave::ipam
