// An in-memory router for tests: attachments and allocations keyed by (container_id, ifname), with
// the contract of the real one (idempotent attach and allocate, detach and release of something
// gone is OK, CHECK of something unknown is NOT_FOUND), requests recorded, errors injectable.
// Thread-safe: the gRPC fake (testing/fake_router_server.h) calls it from server threads.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cni-plugin/router_client.h"

namespace weave::cni {

class FakeRouterClient final : public RouterClient {
 public:
  // Addresses come from 10.32.0.0/12, gateway 10.32.0.1, starting at 10.32.0.2.
  static constexpr char kGateway[] = "10.32.0.1";
  static constexpr uint32_t kDefaultMtu = 1376;

  absl::StatusOr<v1::AttachContainerResponse> AttachContainer(
      const v1::AttachContainerRequest& request) override;
  absl::Status DetachContainer(const v1::DetachContainerRequest& request) override;
  absl::Status CheckContainer(const v1::CheckContainerRequest& request) override;
  absl::StatusOr<v1::GarbageCollectResponse> GarbageCollect(
      const v1::GarbageCollectRequest& request) override;
  absl::StatusOr<v1::Status> GetStatus() override;
  absl::StatusOr<v1::AllocateAddressResponse> AllocateAddress(
      const v1::AllocateAddressRequest& request) override;
  absl::Status ReleaseAddress(const v1::ReleaseAddressRequest& request) override;

  // Every later call of `method` ("AttachContainer", "GetStatus", ...) fails with `status`;
  // an OK status clears the failure.
  void SetError(const std::string& method, absl::Status status);
  void SetReady(bool ready, std::vector<std::string> not_ready = {});

  // Method names in call order.
  std::vector<std::string> calls() const;
  // The last request of each kind (default instances before the first call).
  v1::AttachContainerRequest last_attach() const;
  v1::DetachContainerRequest last_detach() const;
  v1::CheckContainerRequest last_check() const;
  v1::GarbageCollectRequest last_gc() const;
  v1::AllocateAddressRequest last_allocate() const;
  v1::ReleaseAddressRequest last_release() const;
  // Current state: attached (container_id, ifname) pairs and their addresses, allocations.
  std::vector<std::pair<std::string, std::string>> attached() const;
  std::map<std::pair<std::string, std::string>, std::string> allocations() const;

 private:
  using Key = std::pair<std::string, std::string>;

  // Records the call; returns the injected error for `method`, if any.
  absl::Status Enter(const std::string& method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The address of `key`, allocating the next one the first time.
  v1::IpConfig AddressFor(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, absl::Status> errors_ ABSL_GUARDED_BY(mu_);
  bool ready_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<std::string> not_ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  std::map<Key, v1::AttachContainerResponse> attachments_ ABSL_GUARDED_BY(mu_);
  std::map<Key, v1::IpConfig> allocations_ ABSL_GUARDED_BY(mu_);
  uint32_t next_host_ ABSL_GUARDED_BY(mu_) = 2;
  v1::AttachContainerRequest last_attach_ ABSL_GUARDED_BY(mu_);
  v1::DetachContainerRequest last_detach_ ABSL_GUARDED_BY(mu_);
  v1::CheckContainerRequest last_check_ ABSL_GUARDED_BY(mu_);
  v1::GarbageCollectRequest last_gc_ ABSL_GUARDED_BY(mu_);
  v1::AllocateAddressRequest last_allocate_ ABSL_GUARDED_BY(mu_);
  v1::ReleaseAddressRequest last_release_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::cni
