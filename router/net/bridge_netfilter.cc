#include "router/net/bridge_netfilter.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace weave::router {

absl::Status EnsureBridgeNetfilter(const std::string& proc_sys) {
  const std::string path = absl::StrCat(proc_sys, "/net/bridge/bridge-nf-call-iptables");
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " is missing: the br_netfilter module is not loaded (modprobe br_netfilter), so "
        "traffic between pods bypasses the policy gate and weave-npc"));
  }
  std::string value;
  std::getline(in, value);
  if (absl::StripAsciiWhitespace(value) == "1") return absl::OkStatus();
  std::ofstream out(path);
  out << "1\n";
  out.flush();
  if (!out) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setting ", path, " to 1"));
  }
  return absl::OkStatus();
}

}  // namespace weave::router
