// br_netfilter's switch for IPv4: frames bridged between pods (on the weave bridge, and from the
// VXLAN device) meet the inet family's forward hook only while
// net.bridge.bridge-nf-call-iptables is 1. The policy gate and weave-npc's table both sit on that
// hook, so with EXPECT_NPC the router makes sure it is on (as the original Weave Net did).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weave::router {

inline constexpr char kProcSys[] = "/proc/sys";

// Sets <proc_sys>/net/bridge/bridge-nf-call-iptables to 1 unless it is already. The setting is
// per network namespace, so this is the router's (the host's) namespace. FailedPrecondition when
// the file is missing: br_netfilter is not loaded, and bridged pod traffic bypasses both tables;
// otherwise the error of the write.
absl::Status EnsureBridgeNetfilter(const std::string& proc_sys = kProcSys);

}  // namespace weave::router
