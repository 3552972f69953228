#include "router/teardown.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "spdlog/spdlog.h"

namespace weave::router {

absl::Status TeardownLinks(netlink::Netlink& host, const std::string& bridge) {
  absl::Status first = absl::OkStatus();
  auto note = [&](absl::Status status) {
    if (!status.ok() && !absl::IsNotFound(status) && first.ok()) first = status;
  };
  absl::StatusOr<std::vector<netlink::LinkInfo>> links = host.ListLinks();
  if (!links.ok()) return links.status();
  for (const netlink::LinkInfo& link : *links) {
    // Deleting our end of a pod's veth removes the pod's end too.
    if (absl::StartsWith(link.name, "vethwepl")) note(host.DeleteLink(link.name));
    // The overlay's ports: the VXLAN device (fastdp) and the sleeve's TAP.
    if (absl::StartsWith(link.name, "vxlan-") && link.kind == "vxlan") {
      note(host.DeleteLink(link.name));
    }
    if (absl::StartsWith(link.name, "vethwe-")) note(host.DeleteLink(link.name));
  }
  note(host.DeleteLink(bridge));
  if (first.ok()) spdlog::info("Removed bridge {}, its overlay ports and pod interfaces", bridge);
  return first;
}

absl::Status RemoveStore(const std::string& store_path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(store_path + suffix, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("removing ", store_path, suffix, ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace weave::router
