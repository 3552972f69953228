#include "ipam/ring.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <span>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/net/ip.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {
namespace {

constexpr uint64_t kAddressSpace = uint64_t{1} << 32;
constexpr uint64_t kMaxPeerName = (uint64_t{1} << 48) - 1;
// Transfer's bump: far above the handful of edits an owner makes between two gossips.
constexpr uint32_t kTransferVersionBump = 100;

// Broken internal contracts abort loudly (STYLE.md 7); peers' input never gets here.
void Require(bool ok, const char* what) {
  if (ok) return;
  spdlog::critical("IPAM ring: broken precondition: {}", what);
  std::abort();
}

// Versions saturate rather than wrap: a wrapped version would lose to everything.
uint32_t Bump(uint32_t version, uint32_t by) {
  return static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{version} + by, std::numeric_limits<uint32_t>::max()));
}

std::string Address(uint64_t address) {
  return net::Ipv4(static_cast<uint32_t>(address)).ToString();
}

// "10.32.0.0-10.47.255.255", the original's form of a range.
std::string RangeText(uint64_t start, uint64_t end) {
  return absl::StrCat(Address(start), "-", Address(end - 1));
}

std::string PeersText(const std::vector<PeerName>& peers) {
  return absl::StrJoin(peers, ",",
                       [](std::string* out, PeerName peer) { out->append(peer.ToString()); });
}

// The equal-version tie-break ranks free count, then peer name: any total order keeps the merge
// commutative; free first matches the original.
bool Outranks(const RingEntry& a, const RingEntry& b) {
  return std::tuple(a.version, a.free, a.peer) > std::tuple(b.version, b.free, b.peer);
}

const RingEntry* FindToken(const std::vector<RingEntry>& entries, uint64_t token) {
  auto it = std::lower_bound(entries.begin(), entries.end(), token,
                             [](const RingEntry& e, uint64_t t) { return e.token < t; });
  return it != entries.end() && it->token == token ? &*it : nullptr;
}

// Geometry of a list of entries over the universe: which addresses each entry owns.
// `entries` must be non-empty for everything but the constructor.
class Layout {
 public:
  Layout(const std::vector<RingEntry>& entries, uint64_t start, uint64_t end)
      : entries_(entries), start_(start), end_(end) {}

  size_t Next(size_t i) const { return i + 1 == entries_.size() ? 0 : i + 1; }

  // Addresses from `from` up to `to` going round the ring; the whole universe when equal.
  uint64_t Distance(uint64_t from, uint64_t to) const {
    return to > from ? to - from : (end_ - from) + (to - start_);
  }

  uint64_t EntrySize(size_t i) const {
    return Distance(entries_[i].token, entries_[Next(i)].token);
  }

  // The entry owning `address`, which must be inside the universe.
  size_t IndexOwning(uint64_t address) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                               [](uint64_t a, const RingEntry& e) { return a < e.token; });
    return it == entries_.begin() ? entries_.size() - 1 : (it - entries_.begin()) - 1;
  }

  // Calls visit(index, piece) for each entry owning part of `range` (inside the universe), in
  // address order, with the part it owns.
  template <typename Visit>
  void ForEachPiece(AddressRange range, Visit visit) const {
    size_t k = IndexOwning(range.start);
    for (uint64_t pos = range.start; pos < range.end; k = Next(k)) {
      uint64_t next = entries_[Next(k)].token;
      uint64_t stop = std::min(next > pos ? next : end_, range.end);
      visit(k, AddressRange{pos, stop});
      pos = stop;
    }
  }

  // Entry i's addresses in address order: two ranges when it wraps around the universe end.
  std::vector<AddressRange> EntryRanges(size_t i) const {
    uint64_t token = entries_[i].token;
    uint64_t next = entries_[Next(i)].token;
    if (next > token) return {{token, next}};
    std::vector<AddressRange> ranges;
    if (next > start_) ranges.push_back({start_, next});
    ranges.push_back({token, end_});
    return ranges;
  }

 private:
  const std::vector<RingEntry>& entries_;
  uint64_t start_;
  uint64_t end_;
};

// ClaimForPeers' recursive halving; appends leaves in address order.
void Subdivide(uint64_t from, uint64_t to, std::span<const PeerName> peers,
               std::vector<RingEntry>* out) {
  uint64_t share = to - from;
  if (share == 0) return;
  if (share == 1 || peers.size() == 1) {
    out->push_back(RingEntry{.token = static_cast<uint32_t>(from), .peer = peers[0]});
    return;
  }
  uint64_t mid = from + share / 2;
  size_t half = peers.size() / 2;
  Subdivide(from, mid, peers.first(half), out);
  Subdivide(mid + share % 2, to, peers.subspan(half), out);
}

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("invalid IPAM ring: ", problem));
}

}  // namespace

Ring::Ring(uint64_t start, uint64_t end, PeerName self) : start_(start), end_(end), self_(self) {
  Require(start < end && end <= kAddressSpace && end - start < kAddressSpace,
          "universe must be a non-empty part of IPv4 smaller than all of it");
  Require(self.value() != 0, "self must be a peer name");
}

void Ring::ClaimForPeers(std::vector<PeerName> peers) {
  Require(Empty(), "ClaimForPeers on a ring that has entries");
  Require(!peers.empty(), "ClaimForPeers without peers");
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  Require(peers.front().value() != 0, "ClaimForPeers with a zero peer name");

  Subdivide(start_, end_, peers, &entries_);
  Layout layout(entries_, start_, end_);
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].free = static_cast<uint32_t>(layout.EntrySize(i));
  }
  seeds_ = std::move(peers);
}

absl::StatusOr<bool> Ring::Merge(const Ring& other) {
  // Any entry of ours touching the ranges that reports fewer free addresses than it holds.
  return Merge(other, [this](const std::vector<AddressRange>& ranges) {
    Layout layout(entries_, start_, end_);
    bool allocated = false;
    for (const AddressRange& range : ranges) {
      layout.ForEachPiece(range, [&](size_t k, AddressRange) {
        const RingEntry& e = entries_[k];
        if (e.peer == self_ && e.free < layout.EntrySize(k)) allocated = true;
      });
    }
    return allocated;
  });
}

absl::StatusOr<bool> Ring::Merge(const Ring& other, const AllocationProbe& has_allocations) {
  if (start_ != other.start_ || end_ != other.end_) {
    return absl::FailedPreconditionError(
        absl::StrCat("IP allocation has a different range (ours: ", RangeText(start_, end_),
                     "; theirs: ", RangeText(other.start_, other.end_), ")"));
  }
  if (!seeds_.empty() && !other.seeds_.empty() && seeds_ != other.seeds_) {
    return absl::FailedPreconditionError(
        absl::StrCat("IP allocation was seeded by different peers (ours: ", PeersText(seeds_),
                     "; theirs: ", PeersText(other.seeds_), ")"));
  }
  std::vector<RingEntry> merged = MergedEntries(other);
  RETURN_IF_ERROR(CheckConflicts(other, merged, has_allocations));

  // New tokens shrink the ranges of the entries they split; a free count can't exceed its range.
  if (!merged.empty()) {
    Layout layout(merged, start_, end_);
    for (size_t i = 0; i < merged.size(); ++i) {
      uint64_t size = layout.EntrySize(i);
      if (merged[i].free > size) merged[i].free = static_cast<uint32_t>(size);
    }
  }
  bool changed = merged != entries_;
  entries_ = std::move(merged);
  if (seeds_.empty() && !other.seeds_.empty()) {
    seeds_ = other.seeds_;
    changed = true;
  }
  return changed;
}

std::vector<RingEntry> Ring::MergedEntries(const Ring& other) const {
  std::vector<RingEntry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() || (mine != entries_.end() && mine->token < theirs->token)) {
      merged.push_back(*mine++);
    } else if (mine == entries_.end() || theirs->token < mine->token) {
      merged.push_back(*theirs++);
    } else {
      RingEntry winner = Outranks(*theirs, *mine) ? *theirs : *mine;
      if (mine->peer == self_ && theirs->peer == self_ && theirs->version > mine->version) {
        // Someone has a newer version of an entry of ours that still names us (we lost state,
        // say): what we know about our own allocations wins, at a version that beats theirs.
        winner = *mine;
        winner.version = Bump(theirs->version, 1);
      }
      merged.push_back(winner);
      ++mine;
      ++theirs;
    }
  }
  return merged;
}

absl::Status Ring::CheckConflicts(const Ring& other, const std::vector<RingEntry>& merged,
                                  const AllocationProbe& has_allocations) const {
  if (entries_.empty()) return absl::OkStatus();
  Layout before(entries_, start_, end_);
  Layout after(merged, start_, end_);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const RingEntry& mine = entries_[i];
    if (mine.peer != self_) continue;
    std::vector<AddressRange> ranges = before.EntryRanges(i);

    const RingEntry* theirs = FindToken(other.entries_, mine.token);
    if (theirs != nullptr && theirs->version == mine.version && *theirs != mine &&
        has_allocations(ranges)) {
      return absl::FailedPreconditionError(
          absl::StrCat("Inconsistent entries for ", Address(mine.token), ": owned by ",
                       mine.peer.ToString(), " (free ", mine.free, ") but incoming message says ",
                       theirs->peer.ToString(), " (free ", theirs->free, ")"));
    }

    // The addresses of this entry that the merge would hand to someone else.
    std::vector<AddressRange> lost;
    const RingEntry* first_taker = nullptr;
    for (const AddressRange& range : ranges) {
      after.ForEachPiece(range, [&](size_t k, AddressRange piece) {
        if (merged[k].peer == self_) return;
        lost.push_back(piece);
        if (first_taker == nullptr) first_taker = &merged[k];
      });
    }
    if (lost.empty() || !has_allocations(lost)) continue;
    if (first_taker->token == mine.token) {
      return absl::FailedPreconditionError(
          absl::StrCat("Received update for IP range I own at ", Address(mine.token), " v",
                       mine.version, ": incoming message says owner ", first_taker->peer.ToString(),
                       " v", first_taker->version));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("Peer ", first_taker->peer.ToString(), " says it owns the IP range from ",
                     Address(first_taker->token), ", which I think I own"));
  }
  return absl::OkStatus();
}

void Ring::GrantRangeToHost(uint64_t start, uint64_t end, PeerName peer) {
  Require(!Empty(), "GrantRangeToHost on an empty ring");
  Require(start_ <= start && start < end && end <= end_, "GrantRangeToHost outside the universe");
  Require(peer != self_ && peer.value() != 0, "GrantRangeToHost to us or to nobody");
  Layout before(entries_, start_, end_);
  before.ForEachPiece({start, end}, [&](size_t k, AddressRange) {
    Require(entries_[k].peer == self_, "GrantRangeToHost of a range we don't own");
  });

  // Tokens at both ends, owned by us like the addresses they sit on; then the range changes
  // hands. The universe's end is its start, going round.
  std::vector<RingEntry> next = entries_;
  for (uint64_t token : {start, end == end_ ? start_ : end}) {
    if (FindToken(next, token) != nullptr) continue;
    RingEntry inserted{.token = static_cast<uint32_t>(token), .peer = self_};
    next.insert(
        std::upper_bound(next.begin(), next.end(), inserted,
                         [](const RingEntry& a, const RingEntry& b) { return a.token < b.token; }),
        inserted);
  }
  for (RingEntry& e : next) {
    if (e.token >= start && e.token < end) e.peer = peer;
  }

  // Every new entry lies inside one old entry: recompute what changed in peer or extent.
  Layout after(next, start_, end_);
  for (size_t j = 0; j < next.size(); ++j) {
    size_t i = before.IndexOwning(next[j].token);
    const RingEntry& old = entries_[i];
    bool existed = old.token == next[j].token;
    uint64_t size = after.EntrySize(j);
    if (existed && old.peer == next[j].peer && size == before.EntrySize(i)) continue;
    if (next[j].peer != self_) {
      next[j].free = static_cast<uint32_t>(size);
    } else {
      uint64_t allocated = before.EntrySize(i) - old.free;
      next[j].free = static_cast<uint32_t>(size > allocated ? size - allocated : 0);
    }
    if (existed) next[j].version = Bump(old.version, 1);
  }
  entries_ = std::move(next);
}

uint64_t Ring::Transfer(PeerName from, PeerName to) {
  Require(to.value() != 0, "Transfer to nobody");
  if (from == to || Empty()) return 0;
  Layout layout(entries_, start_, end_);
  uint64_t moved = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    RingEntry& e = entries_[i];
    if (e.peer != from) continue;
    e.peer = to;
    e.version = Bump(e.version, kTransferVersionBump);
    moved += layout.EntrySize(i);
  }
  return moved;
}

std::vector<AddressRange> Ring::OwnedBy(PeerName peer) const {
  std::vector<AddressRange> owned;
  if (Empty()) return owned;
  Layout(entries_, start_, end_).ForEachPiece({start_, end_}, [&](size_t k, AddressRange piece) {
    if (entries_[k].peer != peer) return;
    if (!owned.empty() && owned.back().end == piece.start) {
      owned.back().end = piece.end;
    } else {
      owned.push_back(piece);
    }
  });
  return owned;
}

std::optional<PeerName> Ring::Owner(uint64_t address) const {
  if (Empty() || address < start_ || address >= end_) return std::nullopt;
  return entries_[Layout(entries_, start_, end_).IndexOwning(address)].peer;
}

bool Ring::ReportFree(const std::map<uint32_t, uint32_t>& free_by_token) {
  Layout layout(entries_, start_, end_);
  bool changed = false;
  for (const auto& [token, free] : free_by_token) {
    const RingEntry* found = FindToken(entries_, token);
    Require(found != nullptr && found->peer == self_, "ReportFree for a token that isn't ours");
    size_t i = found - entries_.data();
    Require(free <= layout.EntrySize(i), "ReportFree of more addresses than the entry holds");
    if (entries_[i].free == free) continue;
    entries_[i].free = free;
    entries_[i].version = Bump(entries_[i].version, 1);
    changed = true;
  }
  return changed;
}

bool Ring::ReportFree(const std::function<uint64_t(const AddressRange&)>& free_in) {
  Layout layout(entries_, start_, end_);
  std::map<uint32_t, uint32_t> free_by_token;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].peer != self_) continue;
    uint64_t free = 0;
    for (const AddressRange& range : layout.EntryRanges(i)) {
      uint64_t in_range = free_in(range);
      Require(in_range <= range.size(), "free count larger than its range");
      free += in_range;
    }
    free_by_token[entries_[i].token] = static_cast<uint32_t>(free);
  }
  return ReportFree(free_by_token);
}

std::vector<PeerName> Ring::ChoosePeersToAskForSpace(
    uint64_t start, uint64_t end, const std::function<double()>& random01) const {
  start = std::max(start, start_);
  end = std::min(end, end_);
  if (Empty() || start >= end) return {};

  std::map<size_t, uint64_t> overlap_by_entry;
  Layout(entries_, start_, end_).ForEachPiece({start, end}, [&](size_t k, AddressRange piece) {
    if (entries_[k].peer != self_ && entries_[k].free > 0) overlap_by_entry[k] += piece.size();
  });
  std::map<PeerName, uint64_t> free_by_peer;
  for (const auto& [k, overlap] : overlap_by_entry) {
    free_by_peer[entries_[k].peer] += std::min<uint64_t>(entries_[k].free, overlap);
  }

  std::vector<std::pair<double, PeerName>> weighted;
  for (const auto& [peer, free] : free_by_peer) {
    weighted.emplace_back(static_cast<double>(free) * random01(), peer);
  }
  std::stable_sort(weighted.begin(), weighted.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<PeerName> peers;
  for (const auto& [weight, peer] : weighted) peers.push_back(peer);
  return peers;
}

std::map<PeerName, uint64_t> Ring::OwnershipSizes() const {
  std::map<PeerName, uint64_t> sizes;
  Layout layout(entries_, start_, end_);
  for (size_t i = 0; i < entries_.size(); ++i) sizes[entries_[i].peer] += layout.EntrySize(i);
  return sizes;
}

uint64_t Ring::EntrySize(size_t index) const {
  Require(index < entries_.size(), "EntrySize of an entry that doesn't exist");
  return Layout(entries_, start_, end_).EntrySize(index);
}

void Ring::Clear() {
  entries_.clear();
  seeds_.clear();
}

v1::Ring Ring::ToProto() const {
  v1::Ring proto;
  proto.set_start(static_cast<uint32_t>(start_));
  proto.set_end(end_);
  for (const RingEntry& e : entries_) {
    v1::RingEntry* out = proto.add_entries();
    out->set_token(e.token);
    out->set_peer(e.peer.value());
    out->set_version(e.version);
    out->set_free(e.free);
  }
  for (PeerName seed : seeds_) proto.add_seeds(seed.value());
  return proto;
}

absl::StatusOr<Ring> Ring::FromProto(const v1::Ring& proto, PeerName self) {
  uint64_t start = proto.start();
  uint64_t end = proto.end();
  if (start >= end || end > kAddressSpace || end - start >= kAddressSpace) {
    return Invalid(absl::StrCat("range [", start, ", ", end, ") is empty or not within IPv4"));
  }
  Ring ring(start, end, self);
  for (const v1::RingEntry& in : proto.entries()) {
    if (in.token() < start || in.token() >= end) {
      return Invalid(absl::StrCat("token ", Address(in.token()), " is outside the range ",
                                  RangeText(start, end)));
    }
    if (!ring.entries_.empty() && in.token() <= ring.entries_.back().token) {
      return Invalid(absl::StrCat("token ", Address(in.token()),
                                  in.token() == ring.entries_.back().token
                                      ? " appears twice"
                                      : " is out of order (tokens must be sorted)"));
    }
    if (in.peer() == 0 || in.peer() > kMaxPeerName) {
      return Invalid(absl::StrCat("token ", Address(in.token()), " has peer name ", in.peer(),
                                  ", which is zero or longer than 48 bits"));
    }
    ring.entries_.push_back(RingEntry{.token = in.token(),
                                      .peer = PeerName(in.peer()),
                                      .version = in.version(),
                                      .free = in.free()});
  }
  Layout layout(ring.entries_, start, end);
  for (size_t i = 0; i < ring.entries_.size(); ++i) {
    if (ring.entries_[i].free > layout.EntrySize(i)) {
      return Invalid(absl::StrCat("token ", Address(ring.entries_[i].token), " reports ",
                                  ring.entries_[i].free, " free addresses but its range holds ",
                                  layout.EntrySize(i)));
    }
  }
  if (proto.seeds_size() > 0 && ring.entries_.empty()) return Invalid("seeds without entries");
  for (uint64_t seed : proto.seeds()) {
    if (seed == 0 || seed > kMaxPeerName) {
      return Invalid(absl::StrCat("seed ", seed, " is zero or longer than 48 bits"));
    }
    if (!ring.seeds_.empty() && seed <= ring.seeds_.back().value()) {
      return Invalid(absl::StrCat("seed ", PeerName(seed).ToString(),
                                  " is repeated or out of order (seeds must be sorted)"));
    }
    ring.seeds_.push_back(PeerName(seed));
  }
  return ring;
}

std::string Ring::ToString() const {
  std::string out = absl::StrCat("Ring [", Address(start_), ", ",
                                 end_ == kAddressSpace ? "2^32" : Address(end_), ")");
  for (const RingEntry& e : entries_) {
    absl::StrAppend(&out, "\n  ", Address(e.token), " -> ", e.peer.ToString(), " (v", e.version,
                    ", free ", e.free, ")");
  }
  return out;
}

bool operator==(const Ring& a, const Ring& b) {
  return a.start_ == b.start_ && a.end_ == b.end_ && a.entries_ == b.entries_ &&
         a.seeds_ == b.seeds_;
}

}  // namespace weave::ipam
