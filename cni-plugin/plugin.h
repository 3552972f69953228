// One CNI invocation from environment and stdin to stdout and exit code, with the router and the
// delegated IPAM plugin injected. main.cc wires the real ones; tests pass fakes.
//
// weave-net (Mode::kNet):
//   ADD     [delegated IPAM ADD] + AttachContainer; prints the result in the configuration's
//           cniVersion, appended to prevResult when chained. A failed attach releases the
//           delegated address again.
//   DEL     DetachContainer (+ delegated IPAM DEL). Something already gone is success.
//   CHECK   CheckContainer with the prevResult's addresses (+ delegated IPAM CHECK). 0.4.0+.
//   GC      GarbageCollect with cni.dev/valid-attachments (+ delegated IPAM GC). 1.1.0+. Without
//           the list it refuses (code 7) rather than release every attachment.
//   STATUS  GetStatus: not ready, or no router, is code 50 (+ delegated IPAM STATUS). 1.1.0+.
//   VERSION the supported versions.
// weave-ipam (Mode::kIpam): ADD AllocateAddress (an IPAM result), DEL ReleaseAddress, CHECK
//   AllocateAddress again (idempotent per container and interface; the API has no read-only
//   lookup) and compares it with prevResult, STATUS as above. GC does nothing: GarbageCollect
//   has no network name, and weave-ipam serves another network than weave-net's on the same
//   router, so this network's list of attachments would release every weave-net pod's address.
//
// Every failure prints one CNI error (errors.h) and exits 1; bad input never crashes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cni-plugin/cni.h"
#include "cni-plugin/ipam_delegate.h"
#include "cni-plugin/router_client.h"

namespace weave::cni {

struct Invocation {
  Mode mode = Mode::kNet;
  EnvMap env;              // CNI_*, WEAVE_SOCKET
  std::string stdin_data;  // the network configuration
};

struct Outcome {
  int exit_code = 0;
  std::string output;  // for stdout: a result or error document and '\n', or empty
  std::string log;     // one line for stderr, or empty
};

// Makes the client for one invocation: the socket path and the deadline of its call. Shared so
// that the caller may keep it past RunPlugin: main exits without tearing gRPC down.
using RouterFactory = std::function<std::shared_ptr<RouterClient>(const std::string& socket_path,
                                                                  absl::Duration timeout)>;

struct Dependencies {
  RouterFactory router;
  IpamDelegate* ipam = nullptr;  // used only when the configuration has ipam.type
};

// Router deadlines. ADD may wait for the router's IPAM to become ready; STATUS should answer fast.
inline constexpr absl::Duration kRouterTimeout = absl::Seconds(30);
inline constexpr absl::Duration kStatusTimeout = absl::Seconds(5);

Outcome RunPlugin(const Invocation& invocation, const Dependencies& deps);

}  // namespace weave::cni
