// Scenarios every Netlink implementation must pass, run against FakeNetlink (netlink_test) and the
// kernel (netlink_netns_test), so that the fake stays as faithful as its header claims.
// Test-only: uses Catch2 assertions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/netlink/netlink.h"

namespace weave::netlink::testing {

// Two fresh namespaces (each holding only lo) and how to reach them.
struct ConformanceEnv {
  Netlink* host = nullptr;
  Netlink* peer = nullptr;
  int peer_netns_fd = -1;  // Stands for `peer` in host->CreateVethPair.
  // Read the hairpin mode and isolation of a bridge port in `host` (false for a link that is not
  // a port).
  std::function<absl::StatusOr<bool>(const std::string& port)> hairpin;
  std::function<absl::StatusOr<bool>(const std::string& port)> isolated;
  // Makes `sender`, an up veth end in `host` whose peer is an up port of an up bridge, send a
  // frame, and returns once the bridge has learned sender's MAC on that port.
  std::function<absl::Status(const std::string& sender)> send_frame;
};

// Links: create, read, change, delete; duplicates, missing links and invalid values.
void CheckLinkLifecycle(const ConformanceEnv& env);
// Bridges and their ports: master, hairpin, the bridge MTU rule, deleting either side.
void CheckBridgePorts(const ConformanceEnv& env);
// A veth pair whose peer is created in the other namespace with its final name.
void CheckVethAcrossNamespaces(const ConformanceEnv& env);
// Addresses, connected routes, gateway and device routes, and what flushes them.
void CheckAddressesAndRoutes(const ConformanceEnv& env);
// VXLAN devices: create, read back, conflicts and invalid specs, as links and as bridge ports.
void CheckVxlanDevices(const ConformanceEnv& env);
// A VXLAN device's own FDB: the flood list, unicast entries, the kernel's append and delete rules.
void CheckVxlanFdb(const ConformanceEnv& env);
// Bridge port isolation, and what the bridge learns on a port and forgets.
void CheckPortIsolationAndLearning(const ConformanceEnv& env);

struct ConformanceScenario {
  std::string name;
  std::function<void(const ConformanceEnv&)> check;
};

// All of the above, for a test that runs each in a fresh environment:
//   for (const auto& scenario : ConformanceScenarios()) {
//     DYNAMIC_SECTION(scenario.name) { ...make env...; scenario.check(env); }
//   }
const std::vector<ConformanceScenario>& ConformanceScenarios();

}  // namespace weave::netlink::testing
