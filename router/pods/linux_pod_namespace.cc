#include "common/netlink/arp.h"
#include "common/netlink/netns.h"
#include "common/status_macros.h"
#include "router/pods/pod_namespace.h"

namespace weave::router {
namespace {

class LinuxPodNamespace : public PodNamespace {
 public:
  LinuxPodNamespace(netlink::NetnsFd fd, std::unique_ptr<netlink::Netlink> netlink,
                    netlink::ArpAnnouncer* announcer)
      : fd_(std::move(fd)), netlink_(std::move(netlink)), announcer_(announcer) {}

  int fd() const override { return fd_.fd(); }
  netlink::Netlink& netlink() override { return *netlink_; }
  absl::Status AnnounceAddress(const std::string& ifname, net::Ipv4 ip,
                               const std::array<uint8_t, 6>& mac) override {
    return announcer_->Announce(fd_, ifname, ip, mac);
  }

 private:
  netlink::NetnsFd fd_;
  std::unique_ptr<netlink::Netlink> netlink_;
  netlink::ArpAnnouncer* const announcer_;
};

class LinuxPodNamespaceOpener : public PodNamespaceOpener {
 public:
  absl::StatusOr<std::unique_ptr<PodNamespace>> Open(const std::string& netns_path) override {
    ASSIGN_OR_RETURN(netlink::NetnsFd fd, netlink::NetnsFd::Open(netns_path));
    ASSIGN_OR_RETURN(std::unique_ptr<netlink::Netlink> nl, netlink::OpenNetlinkIn(fd));
    return std::make_unique<LinuxPodNamespace>(std::move(fd), std::move(nl), &announcer_);
  }

 private:
  // Shared by the namespaces it opens; outlives them (the attacher holds them for one call).
  netlink::ArpAnnouncer announcer_;
};

}  // namespace

std::unique_ptr<PodNamespaceOpener> NewLinuxPodNamespaceOpener() {
  return std::make_unique<LinuxPodNamespaceOpener>();
}

}  // namespace weave::router
