// IPALLOC_INIT: how this peer takes part in creating the address ring.
//   consensus[=N]  agree with N peers (N counts every node, this one included; quorum N/2+1).
//                  Without N: the number of configured peers plus one.
//   seed=a,b,...   the ring is seeded by exactly these peer names.
//   observer       never owns space until it needs some.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/peer_name.h"

namespace weave::ipam {

struct InitMode {
  enum class Kind { kConsensus, kSeed, kObserver };
  Kind kind = Kind::kConsensus;
  int consensus_size = 0;  // kConsensus; 0 until resolved against the peer count
  std::vector<PeerName> seed;  // kSeed

  // "consensus=3", "seed=00:00:00:00:00:01,...", "observer".
  std::string ToString() const;
};

// Parses the text form; "" means consensus with the default size.
absl::StatusOr<InitMode> ParseInitMode(absl::string_view text);

// The accepted forms, for error messages.
inline constexpr char kInitModeForms[] =
    "consensus, consensus=<number of nodes>, seed=<peer name>,... or observer";

}  // namespace weave::ipam
