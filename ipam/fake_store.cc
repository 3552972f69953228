#include "ipam/fake_store.h"

#include "absl/strings/str_cat.h"

namespace weave::ipam {

absl::StatusOr<std::vector<Allocation>> FakeStore::LoadAllocations() {
  absl::MutexLock lock(&mu_);
  std::vector<Allocation> result;
  result.reserve(by_address_.size());
  for (const auto& [ip, allocation] : by_address_) result.push_back(allocation);
  return result;
}

absl::Status FakeStore::InsertAllocation(const Allocation& allocation) {
  absl::MutexLock lock(&mu_);
  if (absl::Status st = StartWrite(); !st.ok()) return st;
  auto owner = by_owner_.find({allocation.container_id, allocation.ifname});
  if (owner != by_owner_.end()) return OwnerHoldsError(by_address_.at(owner->second));
  net::Ipv4 ip = allocation.address.address();
  if (auto held = by_address_.find(ip); held != by_address_.end()) {
    return AddressHeldError(held->second);
  }
  by_address_.emplace(ip, allocation);
  by_owner_.emplace(std::make_pair(allocation.container_id, allocation.ifname), ip);
  return absl::OkStatus();
}

absl::Status FakeStore::DeleteAllocations(absl::string_view container_id,
                                          absl::string_view ifname) {
  absl::MutexLock lock(&mu_);
  if (absl::Status st = StartWrite(); !st.ok()) return st;
  auto it = by_owner_.lower_bound({std::string(container_id), std::string(ifname)});
  while (it != by_owner_.end() && it->first.first == container_id &&
         (ifname.empty() || it->first.second == ifname)) {
    by_address_.erase(it->second);
    it = by_owner_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FakeStore::GetMetadata(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  return it->second;
}

absl::Status FakeStore::SetMetadata(absl::string_view key, absl::string_view value) {
  absl::MutexLock lock(&mu_);
  if (absl::Status st = StartWrite(); !st.ok()) return st;
  metadata_[std::string(key)] = std::string(value);
  return absl::OkStatus();
}

void FakeStore::FailWritesWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  write_failure_ = std::move(status);
}

uint64_t FakeStore::write_count() const {
  absl::MutexLock lock(&mu_);
  return write_count_;
}

absl::Status FakeStore::StartWrite() {
  ++write_count_;
  return write_failure_;
}

}  // namespace weave::ipam
