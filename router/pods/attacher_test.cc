#include "router/pods/attacher.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/netlink/fake_netlink.h"
#include "ipam/fake_store.h"
#include "ipam/single_owner_allocator.h"

namespace weave::router {
namespace {

// Pod namespaces are FakeNetlinks registered with the host under made-up fds.
class FakePodNamespace : public PodNamespace {
 public:
  FakePodNamespace(int fd, netlink::FakeNetlink* nl) : fd_(fd), nl_(nl) {}
  int fd() const override { return fd_; }
  netlink::Netlink& netlink() override { return *nl_; }
  absl::Status AnnounceAddress(const std::string&, net::Ipv4 ip,
                               const netlink::MacAddress&) override {
    announced.push_back(ip);
    return absl::OkStatus();
  }
  std::vector<net::Ipv4> announced;

 private:
  int fd_;
  netlink::FakeNetlink* nl_;
};

class FakeOpener : public PodNamespaceOpener {
 public:
  explicit FakeOpener(netlink::FakeNetlink* host) : host_(host) {}
  netlink::FakeNetlink& AddPod(const std::string& path) {
    auto& pod = pods_[path];
    pod = std::make_unique<netlink::FakeNetlink>();
    host_->AddNamespace(next_fd_, pod.get());
    fds_[path] = next_fd_++;
    return *pod;
  }
  void RemovePod(const std::string& path) {
    pods_.erase(path);
    fds_.erase(path);
  }
  absl::StatusOr<std::unique_ptr<PodNamespace>> Open(const std::string& path) override {
    auto it = pods_.find(path);
    if (it == pods_.end()) return absl::NotFoundError(path + " does not exist");
    return std::make_unique<FakePodNamespace>(fds_[path], it->second.get());
  }

 private:
  netlink::FakeNetlink* host_;
  int next_fd_ = 100;
  std::map<std::string, std::unique_ptr<netlink::FakeNetlink>> pods_;
  std::map<std::string, int> fds_;
};

struct Fixture {
  Fixture() : opener(&host) {
    allocator = *ipam::SingleOwnerAllocator::Create(*net::Cidr::Parse("10.32.0.0/12"), &store);
    attacher = std::make_unique<Attacher>(AttacherOptions{}, &host, &opener, allocator.get(),
                                          &endpoints);
    REQUIRE(attacher->EnsureBridge(PeerName(0x428ee8c4521bULL)).ok());
    REQUIRE(attacher->Expose(std::nullopt).ok());
  }
  v1::AttachContainerRequest Request(const std::string& id, const std::string& netns) {
    v1::AttachContainerRequest request;
    request.set_container_id(id);
    request.set_netns(netns);
    request.set_ifname("eth0");
    request.set_pod_namespace("default");
    request.set_pod_name("web-" + id);
    return request;
  }

  netlink::FakeNetlink host;
  FakeOpener opener;
  ipam::FakeStore store;
  std::unique_ptr<ipam::SingleOwnerAllocator> allocator;
  EndpointRegistry endpoints;
  std::unique_ptr<Attacher> attacher;
};

TEST_CASE("the bridge gets the pods' MTU, the peer name as MAC and the first address",
          "[attacher]") {
  Fixture f;
  auto bridge = f.host.GetLink("weave");
  REQUIRE(bridge.ok());
  CHECK(bridge->kind == "bridge");
  CHECK(bridge->mtu == 1376);
  CHECK(bridge->up);
  CHECK(netlink::FormatMac(bridge->mac) == "42:8e:e8:c4:52:1b");
  CHECK(f.host.ListAddresses("weave")->at(0).ToString() == "10.32.0.1/12");
  // Idempotent.
  CHECK(f.attacher->EnsureBridge(PeerName(0x428ee8c4521bULL)).ok());
  CHECK(f.attacher->Expose(std::nullopt)->ToString() == "10.32.0.1/12");
  CHECK(f.allocator->ActiveCount() == 1);
}

TEST_CASE("attach wires a pod and repeating it returns the same result", "[attacher]") {
  Fixture f;
  netlink::FakeNetlink& pod = f.opener.AddPod("/var/run/netns/pod1");
  auto first = f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1"));
  REQUIRE(first.ok());
  CHECK(first->ips(0).address() == "10.32.0.2/12");
  CHECK(first->ips(0).gateway() == "10.32.0.1");
  CHECK(first->interfaces(0).name() == HostVethName("c1", "eth0"));
  CHECK(first->interfaces(1).name() == "eth0");
  CHECK(first->interfaces(1).sandbox() == "/var/run/netns/pod1");
  CHECK(first->mtu() == 1376);

  auto host_end = f.host.GetLink(HostVethName("c1", "eth0"));
  REQUIRE(host_end.ok());
  CHECK(host_end->master_index == f.host.GetLink("weave")->index);
  CHECK(host_end->up);
  CHECK(*f.host.Hairpin(HostVethName("c1", "eth0")));
  auto pod_end = pod.GetLink("eth0");
  REQUIRE(pod_end.ok());
  CHECK(pod_end->up);
  CHECK(pod_end->mtu == 1376);
  CHECK(pod.ListAddresses("eth0")->at(0).ToString() == "10.32.0.2/12");
  bool has_default = false;
  auto routes = pod.ListRoutes();
  REQUIRE(routes.ok());
  for (const auto& route : *routes) {
    has_default = has_default || (route.dst.prefix_length() == 0 &&
                                  route.gateway->ToString() == "10.32.0.1");
  }
  CHECK(has_default);

  auto again = f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1"));
  REQUIRE(again.ok());
  CHECK(again->SerializeAsString() == first->SerializeAsString());
  CHECK(f.endpoints.List().size() == 1);
  CHECK(f.allocator->ActiveCount() == 2);

  v1::CheckContainerRequest check;
  check.set_container_id("c1");
  check.set_ifname("eth0");
  check.set_netns("/var/run/netns/pod1");
  CHECK(f.attacher->Check(check).ok());
}

TEST_CASE("a failed attach leaves no veth and no address behind", "[attacher]") {
  Fixture f;
  SECTION("namespace missing") {
    auto result = f.attacher->Attach(f.Request("c1", "/var/run/netns/missing"));
    CHECK(absl::IsNotFound(result.status()));
  }
  SECTION("the pod already has the interface name") {
    netlink::FakeNetlink& pod = f.opener.AddPod("/var/run/netns/pod1");
    REQUIRE(pod.CreateBridge("eth0", 1500).ok());
    auto result = f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1"));
    CHECK(absl::IsAlreadyExists(result.status()));
  }
  SECTION("the pod's namespace fails after the veth exists") {
    netlink::FakeNetlink& pod = f.opener.AddPod("/var/run/netns/pod1");
    pod.FailNextCall(absl::UnavailableError("injected"));
    auto result = f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1"));
    CHECK(absl::IsUnavailable(result.status()));
    CHECK_FALSE(pod.GetLink("eth0").ok());  // deleting our end took the pod's end along
  }
  SECTION("an invalid interface name") {
    v1::AttachContainerRequest request = f.Request("c1", "/var/run/netns/pod1");
    request.set_ifname("eth0/../x");
    CHECK(absl::IsInvalidArgument(f.attacher->Attach(request).status()));
  }
  auto links = f.host.ListLinks();
  REQUIRE(links.ok());
  for (const auto& link : *links) CHECK(link.name.rfind("vethwepl", 0) != 0);
  CHECK(f.allocator->ActiveCount() == 1);  // only the bridge's address
  CHECK(f.endpoints.List().empty());
}

TEST_CASE("detach releases the address even when the pod is already gone", "[attacher]") {
  Fixture f;
  f.opener.AddPod("/var/run/netns/pod1");
  REQUIRE(f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1")).ok());
  auto sub = f.endpoints.Subscribe();
  f.opener.RemovePod("/var/run/netns/pod1");  // the namespace and its veth end vanish
  v1::DetachContainerRequest del;
  del.set_container_id("c1");
  del.set_ifname("eth0");
  CHECK(f.attacher->Detach(del).ok());
  CHECK(f.attacher->Detach(del).ok());  // idempotent
  CHECK_FALSE(f.host.GetLink(HostVethName("c1", "eth0")).ok());
  CHECK(f.allocator->ActiveCount() == 1);
  // The subscriber saw the endpoint, SYNCED, then its removal.
  CHECK(sub->Next(absl::Seconds(1))->type() == v1::EndpointEvent::ADDED);
  CHECK(sub->Next(absl::Seconds(1))->type() == v1::EndpointEvent::SYNCED);
  CHECK(sub->Next(absl::Seconds(1))->type() == v1::EndpointEvent::REMOVED);
  // The address is free again: the next pod gets it.
  f.opener.AddPod("/var/run/netns/pod2");
  CHECK(f.attacher->Attach(f.Request("c2", "/var/run/netns/pod2"))->ips(0).address() ==
        "10.32.0.2/12");
}

TEST_CASE("garbage collection detaches what the runtime no longer knows", "[attacher]") {
  Fixture f;
  for (const char* id : {"c1", "c2", "c3"}) {
    f.opener.AddPod(std::string("/var/run/netns/") + id);
    REQUIRE(f.attacher->Attach(f.Request(id, std::string("/var/run/netns/") + id)).ok());
  }
  v1::GarbageCollectRequest gc;
  v1::Attachment* keep = gc.add_valid_attachments();
  keep->set_container_id("c2");
  keep->set_ifname("eth0");
  CHECK(*f.attacher->GarbageCollect(gc) == 2);
  CHECK(f.endpoints.List().size() == 1);
  CHECK(f.allocator->ActiveCount() == 2);
}

TEST_CASE("restore re-registers pods whose veth survived a restart", "[attacher]") {
  Fixture f;
  f.opener.AddPod("/var/run/netns/pod1");
  REQUIRE(f.attacher->Attach(f.Request("c1", "/var/run/netns/pod1")).ok());
  EndpointRegistry fresh;
  Attacher restarted(AttacherOptions{}, &f.host, &f.opener, f.allocator.get(), &fresh);
  REQUIRE(restarted.Restore().ok());
  REQUIRE(fresh.List().size() == 1);
  CHECK(fresh.List()[0].addresses(0) == "10.32.0.2/12");
  CHECK(fresh.List()[0].pod_name() == "web-c1");
}

TEST_CASE("host veth names are stable, short and distinct", "[attacher]") {
  CHECK(HostVethName("c1", "eth0") == HostVethName("c1", "eth0"));
  CHECK(HostVethName("c1", "eth0") != HostVethName("c1", "eth1"));
  CHECK(HostVethName("c1", "eth0").size() == 15);
}

}  // namespace
}  // namespace weave::router
