// Which peer a MAC address lives behind, learned from the source addresses of frames that arrive
// from peers, for the sleeve's hot path.
//
// Threading: thread-safe. Built for one writer (the UDP receive thread learning) and one reader
// (the TAP thread looking up destinations) at packet rate, plus rare calls from a control thread
// (ForgetPeer). Lookups take a shared lock only; Learn takes the exclusive lock only when a MAC is
// new or moves to another peer (refreshing an entry's age is an atomic store under the shared
// lock, done at most once a second per entry). Nothing allocates except inserting a new MAC.
//
// Bounded: at most Options::capacity entries, so a peer inventing source addresses cannot grow
// it without limit. When it is full, expired entries are swept; if none are, Learn refuses the
// new MAC (and its frames are flooded, which is correct, only slower).
//
// Time is passed in (the caller reads the clock once per batch), which also makes it testable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>

#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"
#include "common/peer_name.h"

namespace weave::overlay {

// The six bytes of a MAC address at `p` as an integer (first byte most significant).
inline uint64_t MacKey(const uint8_t* p) {
  return (uint64_t{p[0]} << 40) | (uint64_t{p[1]} << 32) | (uint64_t{p[2]} << 24) |
         (uint64_t{p[3]} << 16) | (uint64_t{p[4]} << 8) | uint64_t{p[5]};
}
// Group (multicast or broadcast) addresses have the low bit of the first byte set.
inline bool IsGroupMac(uint64_t mac) { return ((mac >> 40) & 1) != 0; }

class MacTable {
 public:
  struct Options {
    // Like the original's MAC cache: an entry not refreshed for this long is gone.
    absl::Duration expiry = absl::Minutes(10);
    size_t capacity = 65536;
  };

  MacTable() : MacTable(Options{}) {}
  explicit MacTable(Options options) : options_(options) {}
  MacTable(const MacTable&) = delete;
  MacTable& operator=(const MacTable&) = delete;

  enum class LearnResult { kUnchanged, kAdded, kMoved, kFull };
  // Records that `mac` (a unicast address; a group address is ignored: kUnchanged) was the source
  // of a frame from `peer` at `now`.
  LearnResult Learn(uint64_t mac, PeerName peer, absl::Time now);

  // The peer behind `mac`, unless unknown or expired at `now`.
  std::optional<PeerName> Lookup(uint64_t mac, absl::Time now) const;

  // Forgets `mac`, e.g. because it appeared as a source on our own side. True if it was there.
  bool Forget(uint64_t mac);

  // Forgets every MAC learned from `peer` (the link to it left sleeve, or it is gone). Returns
  // how many.
  size_t ForgetPeer(PeerName peer);

  // Entries held, expired ones included until a sweep removes them.
  size_t size() const;

 private:
  struct Entry {
    explicit Entry(PeerName p, int64_t seen) : peer(p), last_seen_ns(seen) {}
    PeerName peer;  // Changed only under the exclusive lock.
    std::atomic<int64_t> last_seen_ns;
  };

  bool Expired(const Entry& entry, int64_t now_ns) const;
  // Removes expired entries; needs the exclusive lock.
  void SweepLocked(int64_t now_ns);

  const Options options_;
  mutable std::shared_mutex mu_;
  // node_hash_map: entries stay put, so their atomics can be updated under the shared lock.
  absl::node_hash_map<uint64_t, Entry> entries_;
};

}  // namespace weave::overlay
