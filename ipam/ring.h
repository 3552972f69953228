// The address ring: a CRDT that splits the IPAM universe [start, end) between peers so that
// every address has exactly one owner, and that replicas converge by gossiping whole rings.
//
// The ring is a sorted list of tokens. A token owns the addresses from itself up to the next
// token, and the last token's range wraps around to the first. Tokens are never removed: a peer
// changes an entry only by raising its version, so merging two replicas keeps, token by token,
// the entry with the highest version. Only an owner edits its own entries (donation, free
// counts); Transfer (rmpeer, shutdown) is the exception and outbids them with version + 100.
//
// What protects users from duplicate addresses is the merge's refusal to let another peer take
// a range where we hold allocations. "Holding allocations" is judged either by the ring's own
// free counts (Merge(other): an entry of ours whose free count is below its size) or by the
// caller's allocator (Merge(other, has_allocations)), which is exact even between ReportFree
// calls. Keep free counts current (ReportFree after every allocator step) when using the former.
//
// A plain value, not thread-safe: its owner (the allocator's actor) serialises access.
// Preconditions marked as such are internal contracts: violating one aborts the process.
// Everything a peer can send goes through FromProto and Merge, which return errors instead.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/peer_name.h"
#include "weave/ipam.pb.h"

namespace weave::ipam {

// [start, end) in host-order IPv4 numbers; end may be 2^32.
struct AddressRange {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - start; }
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

// One token: `peer` owns [token, next token). `free` is the owner's last report of how many of
// those addresses are unallocated; others use it to pick whom to ask for space.
struct RingEntry {
  uint32_t token = 0;
  PeerName peer;
  uint32_t version = 0;
  uint32_t free = 0;
  friend bool operator==(const RingEntry&, const RingEntry&) = default;
};

class Ring {
 public:
  // True when this peer holds an allocated address in any of `ranges` (all inside ranges the
  // ring says we own).
  using AllocationProbe = std::function<bool(const std::vector<AddressRange>& ranges)>;

  // The universe [start, end), owned by nobody yet; `self` is this replica's peer.
  // Precondition: start < end <= 2^32 and end - start < 2^32 (free counts are 32-bit, as on
  // the wire, so 0.0.0.0/0 must be rejected by configuration), and self is not zero.
  Ring(uint64_t start, uint64_t end, PeerName self);

  bool Empty() const { return entries_.empty(); }
  uint64_t start() const { return start_; }
  uint64_t end() const { return end_; }
  PeerName self() const { return self_; }

  // Seeds the ring: the universe is halved recursively, the lower half going to the first half
  // of `peers` (sorted and de-duplicated first), down to one peer per leaf; each leaf is an
  // entry at version 0 whose free count is its whole range. When a halving step has an odd
  // size, the middle address is skipped by the halves and so belongs to the entry before it
  // (its free count includes it: a fresh ring shows no allocations anywhere). With more peers
  // than addresses, the last peers get nothing. seeds() becomes `peers`.
  // Precondition: Empty(), and `peers` non-empty without zero names.
  void ClaimForPeers(std::vector<PeerName> peers);

  // Merges another replica's ring into ours, token by token: the higher version wins; at equal
  // versions the higher free count, then the higher peer name (a tie-break that keeps merge
  // commutative). A newer version of a token of ours that still names us gets version
  // theirs + 1, keeping our free count. Free counts that exceed their entry's range after new
  // tokens arrive are clamped to its size. Seeds are adopted while we have none.
  //
  // Fails with FailedPrecondition, and changes nothing, when:
  //   - both rings have seeds and they differ: "IP allocation was seeded by different peers
  //     (ours: a,b; theirs: c)";
  //   - the universes differ: "IP allocation has a different range (ours: x-y; theirs: z-w)";
  //   - the result would give another peer an address in an entry of ours that has
  //     allocations: a new token inside it ("Peer P says it owns the IP range from A, which I
  //     think I own"), or a newer version of its token naming another peer ("Received update
  //     for IP range I own at A v1: incoming message says owner P v2");
  //   - the other ring has a token of ours with allocations at our version but different
  //     content, even if it still names us ("Inconsistent entries for A: owned by <us> (free F)
  //     but incoming message says P (free G)").
  // Returns whether anything changed. Commutative, associative and idempotent over replicas
  // that merge without error.
  //
  // This form judges allocations by our free counts: an entry of ours with free < size.
  absl::StatusOr<bool> Merge(const Ring& other);
  // The same, asking `has_allocations` about exactly the addresses that would change hands
  // (the whole entry for the inconsistent-content case).
  absl::StatusOr<bool> Merge(const Ring& other, const AllocationProbe& has_allocations);

  // Donation: [start, end) becomes `peer`'s. A token at `start` is inserted (or updated); the
  // tokens inside go to `peer`; a token owned by us is inserted at `end` if there is none (the
  // universe end maps to its start). Changed entries get version + 1 (inserted ones start at 0).
  // Free counts are recomputed assuming the donated addresses were free (the allocator donates
  // only free space): donated entries are wholly free, and the pieces we keep of an entry share
  // its allocations, each piece assuming it might hold all of them (a lower bound; exact when
  // one piece is kept). ReportFree afterwards makes them exact.
  // Precondition: !Empty(), start < end within the universe, we own all of [start, end), and
  // `peer` is neither us nor zero.
  void GrantRangeToHost(uint64_t start, uint64_t end, PeerName peer);

  // rmpeer / shutdown: every entry of `from` becomes `to`'s with version + 100, which beats the
  // owner's concurrent edits. Free counts are kept (the new owner reports its own later; until
  // then they read as the old owner's allocations). Returns how many addresses moved; 0 and no
  // change when from == to. Precondition: `to` is not zero.
  uint64_t Transfer(PeerName from, PeerName to);

  // The ranges `peer` owns, merged where adjacent, in address order.
  std::vector<AddressRange> OwnedBy(PeerName peer) const;
  std::vector<AddressRange> Owned() const { return OwnedBy(self()); }

  // The owner of `address` (nullopt when the ring is empty or it is outside the universe).
  std::optional<PeerName> Owner(uint64_t address) const;

  // Our entries' free counts, keyed by token: an entry whose count changes gets version + 1.
  // Returns whether anything changed. Precondition: every key is the token of an entry of ours
  // and its count fits that entry's range.
  bool ReportFree(const std::map<uint32_t, uint32_t>& free_by_token);
  // The same, asking `free_in` for the free count of each of our entries' ranges (an entry that
  // wraps around the universe end is asked about both pieces, which are summed). Precondition:
  // each answer is at most the size of the range asked about.
  bool ReportFree(const std::function<uint64_t(const AddressRange&)>& free_in);

  // Peers (not us) with free space in [start, end), in descending order of (their free count
  // there) x random01(). A peer's free count there is, per entry overlapping the range, the
  // entry's free count capped at the overlap. random01 is called once per candidate, in
  // ascending peer-name order.
  std::vector<PeerName> ChoosePeersToAskForSpace(uint64_t start, uint64_t end,
                                                 const std::function<double()>& random01) const;

  // Addresses owned per peer (for `weave status ipam`), and the entries as they are.
  std::map<PeerName, uint64_t> OwnershipSizes() const;
  const std::vector<RingEntry>& entries() const { return entries_; }
  // How many addresses entries()[index] owns: up to the next token, the last one wrapping round
  // to the first (which need not sit at start()).
  uint64_t EntrySize(size_t index) const;
  const std::vector<PeerName>& seeds() const { return seeds_; }

  // Drops every entry and seed (the operator's "yield" after a split brain): Empty() again.
  void Clear();

  v1::Ring ToProto() const;
  // Validates everything a peer or the store may get wrong: the universe, tokens sorted and
  // unique inside it, free counts within their ranges, peer names and seeds non-zero and 48-bit,
  // seeds sorted and unique, and seeds only with entries. InvalidArgument with one line naming
  // the problem.
  static absl::StatusOr<Ring> FromProto(const v1::Ring& proto, PeerName self);

  // One line per token, as the original printed it: "Ring [10.32.0.0, 10.48.0.0)" then
  // "  10.32.0.0 -> 42:8e:e8:c4:52:1b (v3, free 42)". For logs and test failures.
  std::string ToString() const;

  // Entries, seeds and universe; not `self`.
  friend bool operator==(const Ring& a, const Ring& b);

 private:
  // The entries as they would be after merging `other`, before conflict checks.
  std::vector<RingEntry> MergedEntries(const Ring& other) const;
  // The first conflict the merged entries would cause with ours, or OK.
  absl::Status CheckConflicts(const Ring& other, const std::vector<RingEntry>& merged,
                              const AllocationProbe& has_allocations) const;

  uint64_t start_;
  uint64_t end_;
  PeerName self_;
  std::vector<RingEntry> entries_;  // sorted by token, tokens unique and in [start_, end_)
  std::vector<PeerName> seeds_;     // sorted, unique
};

}  // namespace weave::ipam
