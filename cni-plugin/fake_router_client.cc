#include "cni-plugin/fake_router_client.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace weave::cni {
namespace {

constexpr uint32_t kRangeBase = (10u << 24) | (32u << 16);  // 10.32.0.0/12

std::string Dotted(uint32_t ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 0xff, ".", (ip >> 8) & 0xff, ".", ip & 0xff);
}

std::string Mac(uint32_t seed, uint32_t side) {
  return absl::StrFormat("02:%02x:0a:20:%02x:%02x", side, (seed >> 8) & 0xff, seed & 0xff);
}

}  // namespace

absl::Status FakeRouterClient::Enter(const std::string& method) {
  calls_.push_back(method);
  auto it = errors_.find(method);
  return it == errors_.end() ? absl::OkStatus() : it->second;
}

v1::IpConfig FakeRouterClient::AddressFor(const Key& key) {
  auto it = allocations_.find(key);
  if (it != allocations_.end()) return it->second;
  v1::IpConfig ip;
  ip.set_address(absl::StrCat(Dotted(kRangeBase + next_host_++), "/12"));
  ip.set_gateway(kGateway);
  allocations_[key] = ip;
  return ip;
}

absl::StatusOr<v1::AttachContainerResponse> FakeRouterClient::AttachContainer(
    const v1::AttachContainerRequest& request) {
  absl::MutexLock lock(&mu_);
  last_attach_ = request;
  if (absl::Status error = Enter("AttachContainer"); !error.ok()) return error;
  const Key key(request.container_id(), request.ifname());
  if (auto it = attachments_.find(key); it != attachments_.end()) return it->second;

  v1::AttachContainerResponse response;
  const uint32_t seed = next_host_;
  v1::Interface* host = response.add_interfaces();
  host->set_name(absl::StrCat("vethwepl", request.container_id().substr(0, 7)));
  host->set_mac(Mac(seed, 1));
  v1::Interface* container = response.add_interfaces();
  container->set_name(request.ifname());
  container->set_mac(Mac(seed, 2));
  container->set_sandbox(request.netns());
  if (request.ips_size() > 0) {
    *response.mutable_ips() = request.ips();
  } else {
    *response.add_ips() = AddressFor(key);
  }
  if (request.routes_size() > 0) {
    *response.mutable_routes() = request.routes();
  } else if (!response.ips(0).gateway().empty()) {
    v1::Route* route = response.add_routes();
    route->set_dst("0.0.0.0/0");
    route->set_gw(response.ips(0).gateway());
  }
  response.set_mtu(request.mtu() != 0 ? request.mtu() : kDefaultMtu);
  attachments_[key] = response;
  return response;
}

absl::Status FakeRouterClient::DetachContainer(const v1::DetachContainerRequest& request) {
  absl::MutexLock lock(&mu_);
  last_detach_ = request;
  if (absl::Status error = Enter("DetachContainer"); !error.ok()) return error;
  const Key key(request.container_id(), request.ifname());
  attachments_.erase(key);
  allocations_.erase(key);
  return absl::OkStatus();
}

absl::Status FakeRouterClient::CheckContainer(const v1::CheckContainerRequest& request) {
  absl::MutexLock lock(&mu_);
  last_check_ = request;
  if (absl::Status error = Enter("CheckContainer"); !error.ok()) return error;
  auto it = attachments_.find(Key(request.container_id(), request.ifname()));
  if (it == attachments_.end()) {
    return absl::NotFoundError(
        absl::StrCat("container ", request.container_id(), " has no interface ", request.ifname()));
  }
  std::set<std::string> have;
  for (const v1::IpConfig& ip : it->second.ips()) have.insert(ip.address());
  for (const v1::IpConfig& ip : request.expected_ips()) {
    if (!have.count(ip.address())) {
      return absl::FailedPreconditionError(
          absl::StrCat("interface ", request.ifname(), " does not have ", ip.address()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GarbageCollectResponse> FakeRouterClient::GarbageCollect(
    const v1::GarbageCollectRequest& request) {
  absl::MutexLock lock(&mu_);
  last_gc_ = request;
  if (absl::Status error = Enter("GarbageCollect"); !error.ok()) return error;
  std::set<Key> valid;
  for (const v1::Attachment& a : request.valid_attachments()) {
    valid.emplace(a.container_id(), a.ifname());
  }
  v1::GarbageCollectResponse response;
  for (auto it = allocations_.begin(); it != allocations_.end();) {
    if (valid.count(it->first)) {
      ++it;
      continue;
    }
    attachments_.erase(it->first);
    it = allocations_.erase(it);
    response.set_released(response.released() + 1);
  }
  std::erase_if(attachments_, [&valid](const auto& entry) { return !valid.count(entry.first); });
  return response;
}

absl::StatusOr<v1::Status> FakeRouterClient::GetStatus() {
  absl::MutexLock lock(&mu_);
  if (absl::Status error = Enter("GetStatus"); !error.ok()) return error;
  v1::Status status;
  status.set_ready(ready_);
  for (const std::string& condition : not_ready_) status.add_not_ready(condition);
  return status;
}

absl::StatusOr<v1::AllocateAddressResponse> FakeRouterClient::AllocateAddress(
    const v1::AllocateAddressRequest& request) {
  absl::MutexLock lock(&mu_);
  last_allocate_ = request;
  if (absl::Status error = Enter("AllocateAddress"); !error.ok()) return error;
  v1::AllocateAddressResponse response;
  *response.mutable_ip() = AddressFor(Key(request.container_id(), request.ifname()));
  return response;
}

absl::Status FakeRouterClient::ReleaseAddress(const v1::ReleaseAddressRequest& request) {
  absl::MutexLock lock(&mu_);
  last_release_ = request;
  if (absl::Status error = Enter("ReleaseAddress"); !error.ok()) return error;
  std::erase_if(allocations_, [&request](const auto& entry) {
    return entry.first.first == request.container_id() &&
           (request.ifname().empty() || entry.first.second == request.ifname());
  });
  return absl::OkStatus();
}

void FakeRouterClient::SetError(const std::string& method, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    errors_.erase(method);
  } else {
    errors_[method] = std::move(status);
  }
}

void FakeRouterClient::SetReady(bool ready, std::vector<std::string> not_ready) {
  absl::MutexLock lock(&mu_);
  ready_ = ready;
  not_ready_ = std::move(not_ready);
}

std::vector<std::string> FakeRouterClient::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

#define WEAVE_FAKE_ROUTER_GETTER(type, name) \
  type FakeRouterClient::name() const {      \
    absl::MutexLock lock(&mu_);              \
    return name##_;                          \
  }
WEAVE_FAKE_ROUTER_GETTER(v1::AttachContainerRequest, last_attach)
WEAVE_FAKE_ROUTER_GETTER(v1::DetachContainerRequest, last_detach)
WEAVE_FAKE_ROUTER_GETTER(v1::CheckContainerRequest, last_check)
WEAVE_FAKE_ROUTER_GETTER(v1::GarbageCollectRequest, last_gc)
WEAVE_FAKE_ROUTER_GETTER(v1::AllocateAddressRequest, last_allocate)
WEAVE_FAKE_ROUTER_GETTER(v1::ReleaseAddressRequest, last_release)
#undef WEAVE_FAKE_ROUTER_GETTER

std::vector<std::pair<std::string, std::string>> FakeRouterClient::attached() const {
  absl::MutexLock lock(&mu_);
  std::vector<Key> keys;
  for (const auto& [key, response] : attachments_) keys.push_back(key);
  return keys;
}

std::map<std::pair<std::string, std::string>, std::string> FakeRouterClient::allocations() const {
  absl::MutexLock lock(&mu_);
  std::map<Key, std::string> out;
  for (const auto& [key, ip] : allocations_) out[key] = ip.address();
  return out;
}

}  // namespace weave::cni
