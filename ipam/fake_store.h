// An in-memory Store with the same semantics as SqliteStore, for tests of its callers. Writes
// can be made to fail, to test what a caller does when the disk does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ipam/store.h"

namespace weave::ipam {

class FakeStore final : public Store {
 public:
  FakeStore() = default;

  absl::StatusOr<std::vector<Allocation>> LoadAllocations() override;
  absl::Status InsertAllocation(const Allocation& allocation) override;
  absl::Status DeleteAllocations(absl::string_view container_id, absl::string_view ifname) override;
  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view key) override;
  absl::Status SetMetadata(absl::string_view key, absl::string_view value) override;

  // Until called again with OkStatus(), every write returns `status` and changes nothing.
  void FailWritesWith(absl::Status status);

  // Calls of InsertAllocation, DeleteAllocations and SetMetadata so far, failed or not.
  uint64_t write_count() const;

 private:
  absl::Status StartWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<net::Ipv4, Allocation> by_address_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, net::Ipv4> by_owner_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> metadata_ ABSL_GUARDED_BY(mu_);
  absl::Status write_failure_ ABSL_GUARDED_BY(mu_);
  uint64_t write_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weave::ipam
