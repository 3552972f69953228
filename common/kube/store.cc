#include "common/kube/store.h"

#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {

bool Differ(const Json& a, const Json& b) {
  std::string va = ResourceVersionOf(a), vb = ResourceVersionOf(b);
  if (!va.empty() && !vb.empty()) return va != vb;
  return a != b;
}

}  // namespace

std::vector<Change> Store::Replace(std::vector<Json> items, int* rejected) {
  std::map<std::string, Json, std::less<>> next;
  int bad = 0;
  for (Json& item : items) {
    absl::StatusOr<std::string> key = ObjectKey(item);
    if (!key.ok()) {
      ++bad;
      continue;
    }
    next.insert_or_assign(*std::move(key), std::move(item));
  }
  if (rejected != nullptr) *rejected = bad;

  std::vector<Change> changes;
  for (const auto& [key, old_object] : objects_) {
    if (!next.contains(key)) changes.push_back({Change::Kind::kDelete, old_object, old_object});
  }
  for (const auto& [key, object] : next) {
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      changes.push_back({Change::Kind::kAdd, Json(), object});
    } else if (Differ(it->second, object)) {
      changes.push_back({Change::Kind::kUpdate, it->second, object});
    }
  }
  objects_ = std::move(next);
  return changes;
}

absl::StatusOr<std::optional<Change>> Store::Apply(const WatchEvent& event) {
  if (event.type != EventType::kAdded && event.type != EventType::kModified &&
      event.type != EventType::kDeleted) {
    return std::nullopt;
  }
  absl::StatusOr<std::string> key = ObjectKey(event.object);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(EventTypeName(event.type), " event for an object without metadata.name"));
  }
  auto it = objects_.find(*key);
  if (event.type == EventType::kDeleted) {
    if (it == objects_.end()) return std::nullopt;
    Change change{Change::Kind::kDelete, std::move(it->second), event.object};
    objects_.erase(it);
    return change;
  }
  if (it == objects_.end()) {
    objects_.emplace(*key, event.object);
    return Change{Change::Kind::kAdd, Json(), event.object};
  }
  Change change{Change::Kind::kUpdate, it->second, event.object};
  it->second = event.object;
  return change;
}

std::optional<Json> Store::Get(absl::string_view key) const {
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> Store::List() const {
  std::vector<Json> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

}  // namespace weave::kube
