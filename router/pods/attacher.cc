#include "router/pods/attacher.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/sha256.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "router/teardown.h"
#include "spdlog/spdlog.h"

namespace weave::router {
namespace {

netlink::MacAddress MacBytes(PeerName name) {
  netlink::MacAddress mac{};
  for (int i = 0; i < 6; ++i) mac[i] = (name.value() >> (8 * (5 - i))) & 0xff;
  return mac;
}

absl::Status ValidateIds(absl::string_view container_id, absl::string_view ifname) {
  if (container_id.empty()) return absl::InvalidArgumentError("container ID is empty");
  if (ifname.empty() || ifname.size() > 15 || ifname.find_first_of("/ \t\n:") != ifname.npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "interface name \"", absl::CHexEscape(ifname), "\" is not a valid Linux interface name"));
  }
  return absl::OkStatus();
}

absl::Status Context(const absl::Status& status, absl::string_view doing) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(doing, ": ", status.message()));
}

}  // namespace

std::string HostVethName(const std::string& container_id, const std::string& ifname) {
  auto digest = crypto::Sha256(container_id + "/" + ifname);
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), 4));
  return absl::StrCat("vethwepl", hex.substr(0, 7));
}

Attacher::Attacher(AttacherOptions options, netlink::Netlink* host, PodNamespaceOpener* opener,
                   ipam::Allocator* allocator, EndpointRegistry* endpoints,
                   PodAddressObserver* observer, std::unique_ptr<netlink::Netlink> reaper)
    : options_(std::move(options)),
      host_(host),
      opener_(opener),
      allocator_(allocator),
      endpoints_(endpoints),
      observer_(observer),
      reaper_(std::move(reaper)) {
  if (reaper_) reap_thread_ = std::thread([this] { ReapLoop(); });
}

Attacher::~Attacher() {
  if (!reap_thread_.joinable()) return;
  {
    std::lock_guard lock(reap_mu_);
    stopping_ = true;
  }
  reap_cv_.notify_all();
  reap_thread_.join();
}

void Attacher::ReapLoop() {
  while (true) {
    Removal removal;
    {
      std::unique_lock lock(reap_mu_);
      reap_cv_.wait(lock, [this] { return stopping_ || !reap_queue_.empty(); });
      if (reap_queue_.empty()) return;  // stopping, and nothing left to do
      removal = std::move(reap_queue_.front());
      reap_queue_.pop_front();
    }
    absl::Status deleted = reaper_->DeleteLinkByIndex(removal.index);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) {
      spdlog::error("Deleting the veth of {} {}: {}", removal.container_id, removal.ifname,
                    deleted);
    }
    std::lock_guard lock(mu_);
    auto key = std::make_pair(removal.container_id, removal.ifname);
    auto it = pending_.find(key);
    if (it == pending_.end() || it->second != removal.index) continue;  // re-attached since
    pending_.erase(it);
    if (absl::Status released = allocator_->Release(removal.container_id, removal.ifname);
        !released.ok()) {
      spdlog::error("Releasing the address of {} {}: {}", removal.container_id, removal.ifname,
                    released);
    }
  }
}

absl::Status Attacher::EnsureBridge(PeerName mac) {
  std::lock_guard lock(mu_);
  absl::StatusOr<netlink::LinkInfo> link = host_->GetLink(options_.bridge);
  bool created = false;
  if (absl::IsNotFound(link.status())) {
    RETURN_IF_ERROR(host_->CreateBridge(options_.bridge, options_.mtu));
    spdlog::info("Created bridge {} (mtu {})", options_.bridge, options_.mtu);
    link = host_->GetLink(options_.bridge);
    created = true;
  }
  RETURN_IF_ERROR(link.status());
  if (link->kind != "bridge") {
    return absl::FailedPreconditionError(absl::StrCat(
        "interface ", options_.bridge, " exists but is a ", link->kind, ", not a bridge"));
  }
  // The MTU given at creation is not "set by the user": without an explicit set, the bridge
  // follows its smallest port and falls back to 1500 when its last port leaves.
  if (created || link->mtu != options_.mtu) {
    RETURN_IF_ERROR(host_->SetMtu(options_.bridge, options_.mtu));
  }
  if (link->mac != MacBytes(mac)) RETURN_IF_ERROR(host_->SetMac(options_.bridge, MacBytes(mac)));
  if (!link->up) RETURN_IF_ERROR(host_->SetUp(options_.bridge, true));
  return absl::OkStatus();
}

absl::StatusOr<net::Cidr> Attacher::Expose(const std::optional<net::Cidr>& cidr) {
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(std::vector<net::Cidr> existing, host_->ListAddresses(options_.bridge));
    for (const net::Cidr& address : existing) {
      if (!cidr || *cidr == address) {
        // Make sure the allocator knows it (after a restart, or an address set by hand).
        absl::StatusOr<ipam::Allocation> claimed =
            allocator_->Claim({kExposeOwner, options_.bridge, address, "", ""});
        if (!claimed.ok() && !absl::IsAlreadyExists(claimed.status())) return claimed.status();
        if (!claimed.ok()) {
          spdlog::warn("Bridge address {}: {}", address.ToString(), claimed.status());
        }
        return address;
      }
    }
  }
  // Allocating may wait for the ring (consensus with other peers): not under the lock, so
  // that pods keep being detached meanwhile.
  net::Cidr address;
  if (cidr) {
    ASSIGN_OR_RETURN(ipam::Allocation claimed,
                     allocator_->Claim({kExposeOwner, options_.bridge, *cidr, "", ""}));
    address = claimed.address;
  } else {
    ASSIGN_OR_RETURN(ipam::Allocation allocated,
                     allocator_->Allocate({kExposeOwner, options_.bridge, "", ""}));
    address = allocated.address;
  }
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Context(host_->AddAddress(options_.bridge, address),
                          absl::StrCat("adding ", address.ToString(), " to ", options_.bridge)));
  spdlog::info("Exposed {} on bridge {}", address.ToString(), options_.bridge);
  return address;
}

absl::StatusOr<v1::Endpoint> Attacher::BridgeEndpoint() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(netlink::LinkInfo link, host_->GetLink(options_.bridge));
  ASSIGN_OR_RETURN(std::vector<net::Cidr> addresses, host_->ListAddresses(options_.bridge));
  v1::Endpoint endpoint;
  endpoint.set_container_id(kExposeOwner);
  endpoint.set_host_ifname(options_.bridge);
  endpoint.set_mac(netlink::FormatMac(link.mac));
  for (const net::Cidr& address : addresses) endpoint.add_addresses(address.ToString());
  return endpoint;
}

absl::Status Attacher::Teardown() {
  std::lock_guard lock(mu_);
  // Pending deletions are moot (every veth goes below) and must not touch the allocator
  // afterwards: the store is removed right after a reset.
  pending_.clear();
  {
    std::lock_guard reap_lock(reap_mu_);
    reap_queue_.clear();
  }
  for (const v1::Endpoint& endpoint : endpoints_->List()) {
    endpoints_->Remove(endpoint.container_id(), endpoint.ifname());
  }
  return TeardownLinks(*host_, options_.bridge);
}

absl::StatusOr<net::Cidr> Attacher::Gateway() {
  ASSIGN_OR_RETURN(std::vector<net::Cidr> addresses, host_->ListAddresses(options_.bridge));
  if (addresses.empty()) {
    return absl::UnavailableError(
        absl::StrCat("bridge ", options_.bridge, " has no address yet (not exposed)"));
  }
  return addresses.front();
}

absl::Status Attacher::Restore() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(std::vector<ipam::Allocation> allocations, allocator_->List());
  int restored = 0;
  for (const ipam::Allocation& allocation : allocations) {
    if (allocation.container_id == kExposeOwner) continue;
    std::string host_name = HostVethName(allocation.container_id, allocation.ifname);
    absl::StatusOr<netlink::LinkInfo> link = host_->GetLink(host_name);
    if (!link.ok()) continue;  // gone while we were down: the runtime's DEL or GC releases it
    v1::Endpoint endpoint;
    endpoint.set_container_id(allocation.container_id);
    endpoint.set_ifname(allocation.ifname);
    endpoint.set_host_ifname(host_name);
    endpoint.add_addresses(allocation.address.ToString());
    endpoint.set_pod_namespace(allocation.pod_namespace);
    endpoint.set_pod_name(allocation.pod_name);
    endpoints_->Add(endpoint);
    restored++;
  }
  if (restored > 0) spdlog::info("Restored {} attached pod interfaces", restored);
  return absl::OkStatus();
}

absl::StatusOr<v1::AttachContainerResponse> Attacher::Attach(
    const v1::AttachContainerRequest& request, absl::Time deadline) {
  std::lock_guard lock(mu_);
  return AttachLocked(request, deadline);
}

absl::StatusOr<v1::AttachContainerResponse> Attacher::AttachLocked(
    const v1::AttachContainerRequest& request, absl::Time deadline) {
  const std::string& id = request.container_id();
  const std::string& ifname = request.ifname();
  RETURN_IF_ERROR(ValidateIds(id, ifname));
  if (request.netns().empty()) return absl::InvalidArgumentError("network namespace is empty");
  const std::string host_name = HostVethName(id, ifname);
  ASSIGN_OR_RETURN(net::Cidr gateway, Gateway());

  v1::AttachContainerResponse response;
  auto fill_response = [&](const v1::Endpoint& endpoint) {
    v1::Interface* host_if = response.add_interfaces();
    host_if->set_name(endpoint.host_ifname());
    if (absl::StatusOr<netlink::LinkInfo> link = host_->GetLink(endpoint.host_ifname());
        link.ok()) {
      host_if->set_mac(netlink::FormatMac(link->mac));
    }
    v1::Interface* pod_if = response.add_interfaces();
    pod_if->set_name(endpoint.ifname());
    pod_if->set_mac(endpoint.mac());
    pod_if->set_sandbox(request.netns());
    for (const std::string& address : endpoint.addresses()) {
      v1::IpConfig* ip = response.add_ips();
      ip->set_address(address);
      ip->set_gateway(gateway.address().ToString());
    }
    if (request.routes().empty()) {
      v1::Route* route = response.add_routes();
      route->set_dst("0.0.0.0/0");
      route->set_gw(gateway.address().ToString());
    } else {
      *response.mutable_routes() = request.routes();
    }
    response.set_mtu(request.mtu() > 0 ? request.mtu() : options_.mtu);
  };

  // A repeated ADD returns what the first one made.
  if (std::optional<v1::Endpoint> existing = endpoints_->Find(id, ifname);
      existing && host_->GetLink(host_name).ok()) {
    fill_response(*existing);
    return response;
  }

  // Open the namespace before allocating: a bad path must leave nothing behind.
  absl::StatusOr<std::unique_ptr<PodNamespace>> pod = opener_->Open(request.netns());
  if (!pod.ok()) {
    return Context(pod.status(), absl::StrCat("opening network namespace ", request.netns()));
  }

  net::Cidr address;
  bool allocated = false;
  if (!request.ips().empty()) {
    absl::StatusOr<net::Cidr> given = net::Cidr::Parse(request.ips(0).address());
    if (!given.ok()) return Context(given.status(), "address from the IPAM plugin");
    address = *given;
  } else {
    ASSIGN_OR_RETURN(ipam::Allocation allocation,
                     allocator_->Allocate({id, ifname, request.pod_namespace(),
                                           request.pod_name(), deadline}));
    address = allocation.address;
    allocated = true;
  }
  absl::Cleanup release = [&] {
    if (allocated) {
      if (absl::Status st = allocator_->Release(id, ifname); !st.ok()) {
        spdlog::error("Releasing the address of {} after a failed attach: {}", id, st);
      }
    }
  };

  // A host veth of that name is a leftover of an attach that did not finish, or of a DEL
  // whose deletion is still pending (the reaper may get there first).
  pending_.erase({id, ifname});
  if (host_->GetLink(host_name).ok()) {
    absl::Status deleted = host_->DeleteLink(host_name);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
  }
  const int mtu = request.mtu() > 0 ? static_cast<int>(request.mtu()) : options_.mtu;
  RETURN_IF_ERROR(Context(host_->CreateVethPair(host_name, ifname, mtu, (*pod)->fd()),
                          absl::StrCat("creating veth ", host_name, " with ", ifname, " in ",
                                       request.netns())));
  absl::Cleanup remove_veth = [&] { (void)host_->DeleteLink(host_name); };

  const bool hairpin = request.has_hairpin() ? request.hairpin() : options_.hairpin;
  RETURN_IF_ERROR(Context(host_->SetMaster(host_name, options_.bridge),
                          absl::StrCat("adding ", host_name, " to bridge ", options_.bridge)));
  if (hairpin) RETURN_IF_ERROR(host_->SetHairpin(host_name, true));
  RETURN_IF_ERROR(host_->SetUp(host_name, true));

  netlink::Netlink& pod_nl = (*pod)->netlink();
  ASSIGN_OR_RETURN(netlink::LinkInfo pod_link, pod_nl.GetLink(ifname));
  RETURN_IF_ERROR(Context(pod_nl.AddAddress(ifname, address),
                          absl::StrCat("adding ", address.ToString(), " to ", ifname)));
  RETURN_IF_ERROR(pod_nl.SetUp(ifname, true));
  if (request.routes().empty()) {
    RETURN_IF_ERROR(Context(
        pod_nl.AddRoute({*net::Cidr::Parse("0.0.0.0/0"), gateway.address(), ifname}),
        "adding the default route"));
  } else {
    for (const v1::Route& r : request.routes()) {
      ASSIGN_OR_RETURN(net::Cidr dst, net::Cidr::Parse(r.dst()));
      std::optional<net::Ipv4> gw;
      if (!r.gw().empty()) {
        ASSIGN_OR_RETURN(gw, net::Ipv4::Parse(r.gw()));
      } else {
        gw = gateway.address();
      }
      RETURN_IF_ERROR(Context(pod_nl.AddRoute({dst, gw, ifname}),
                              absl::StrCat("adding route ", r.dst())));
    }
  }
  if (absl::Status announced = (*pod)->AnnounceAddress(ifname, address.address(), pod_link.mac);
      !announced.ok()) {
    spdlog::warn("Gratuitous ARP for {} in {}: {}", address.ToString(), request.netns(),
                 announced);
  }

  if (observer_ != nullptr) {
    RETURN_IF_ERROR(Context(observer_->PodAttached(address.address()),
                            absl::StrCat("recording local pod ", address.ToString())));
  }

  v1::Endpoint endpoint;
  endpoint.set_container_id(id);
  endpoint.set_ifname(ifname);
  endpoint.set_host_ifname(host_name);
  endpoint.set_mac(netlink::FormatMac(pod_link.mac));
  endpoint.add_addresses(address.ToString());
  endpoint.set_pod_namespace(request.pod_namespace());
  endpoint.set_pod_name(request.pod_name());
  endpoints_->Add(endpoint);
  std::move(release).Cancel();
  std::move(remove_veth).Cancel();
  fill_response(endpoint);
  spdlog::debug("Attached {} {} as {} with {}", id, ifname, host_name, address.ToString());
  return response;
}

absl::Status Attacher::Detach(const v1::DetachContainerRequest& request) {
  RETURN_IF_ERROR(ValidateIds(request.container_id(), request.ifname()));
  std::lock_guard lock(mu_);
  return DetachLocked(request.container_id(), request.ifname());
}

absl::Status Attacher::DetachLocked(const std::string& container_id, const std::string& ifname) {
  // The address is forgotten by the local-pods set before it can be handed out again.
  absl::Status forgotten = absl::OkStatus();
  if (observer_ != nullptr) {
    absl::StatusOr<std::vector<ipam::Allocation>> allocations = allocator_->List();
    if (allocations.ok()) {
      for (const ipam::Allocation& a : *allocations) {
        if (a.container_id == container_id && a.ifname == ifname) {
          forgotten.Update(observer_->PodDetached(a.address.address()));
        }
      }
    }
  }
  std::string host_name = HostVethName(container_id, ifname);
  endpoints_->Remove(container_id, ifname);
  if (reaper_) {
    absl::StatusOr<netlink::LinkInfo> link = host_->GetLink(host_name);
    if (link.ok()) {
      pending_[{container_id, ifname}] = link->index;
      {
        std::lock_guard lock(reap_mu_);
        reap_queue_.push_back({container_id, ifname, link->index});
      }
      reap_cv_.notify_one();
      return Context(forgotten, "removing the pod from the local-pods set");
    }
  }
  // DEL must free the address even when the veth is long gone.
  absl::Status released = allocator_->Release(container_id, ifname);
  absl::Status deleted = host_->DeleteLink(host_name);
  if (absl::IsNotFound(deleted)) deleted = absl::OkStatus();
  RETURN_IF_ERROR(Context(released, absl::StrCat("releasing the address of ", container_id)));
  RETURN_IF_ERROR(Context(forgotten, "removing the pod from the local-pods set"));
  return Context(deleted, absl::StrCat("deleting ", host_name));
}

absl::Status Attacher::Check(const v1::CheckContainerRequest& request) {
  RETURN_IF_ERROR(ValidateIds(request.container_id(), request.ifname()));
  std::lock_guard lock(mu_);
  std::optional<v1::Endpoint> endpoint =
      endpoints_->Find(request.container_id(), request.ifname());
  if (!endpoint) {
    return absl::NotFoundError(absl::StrCat("container ", request.container_id(),
                                            " has no interface ", request.ifname(),
                                            " attached"));
  }
  ASSIGN_OR_RETURN(netlink::LinkInfo host_link, host_->GetLink(endpoint->host_ifname()));
  ASSIGN_OR_RETURN(netlink::LinkInfo bridge, host_->GetLink(options_.bridge));
  if (host_link.master_index != bridge.index || !host_link.up) {
    return absl::FailedPreconditionError(
        absl::StrCat(endpoint->host_ifname(), " is not up on bridge ", options_.bridge));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PodNamespace> pod, opener_->Open(request.netns()));
  ASSIGN_OR_RETURN(std::vector<net::Cidr> addresses,
                   pod->netlink().ListAddresses(request.ifname()));
  for (const std::string& expected : endpoint->addresses()) {
    bool found = false;
    for (const net::Cidr& a : addresses) found = found || a.ToString() == expected;
    if (!found) {
      return absl::FailedPreconditionError(absl::StrCat(
          request.ifname(), " in ", request.netns(), " lacks its address ", expected));
    }
  }
  for (const v1::IpConfig& ip : request.expected_ips()) {
    bool found = false;
    for (const std::string& a : endpoint->addresses()) found = found || a == ip.address();
    if (!found) {
      return absl::FailedPreconditionError(
          absl::StrCat("address ", ip.address(), " is not attached to ", request.ifname()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Attacher::GarbageCollect(const v1::GarbageCollectRequest& request) {
  std::lock_guard lock(mu_);
  std::set<std::pair<std::string, std::string>> valid;
  for (const v1::Attachment& a : request.valid_attachments()) {
    valid.insert({a.container_id(), a.ifname()});
  }
  // Only interfaces this attacher made: addresses handed out through weave-ipam belong to
  // another network's plugin and are not ours to collect.
  uint32_t released = 0;
  for (const v1::Endpoint& endpoint : endpoints_->List()) {
    if (valid.count({endpoint.container_id(), endpoint.ifname()})) continue;
    RETURN_IF_ERROR(DetachLocked(endpoint.container_id(), endpoint.ifname()));
    released++;
  }
  if (released > 0) spdlog::info("Garbage collection released {} pod interfaces", released);
  return released;
}

}  // namespace weave::router
