// The objects of one collection as last seen, keyed by "namespace/name" (or "name"), and the
// changes that a full list or a watch event makes to them. Pure; the Reflector guards it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/kube/object.h"

namespace weave::kube {

struct Change {
  enum class Kind { kAdd, kUpdate, kDelete };
  Kind kind = Kind::kAdd;
  Json old_object;  // kUpdate: as it was; kDelete: the last state known
  Json object;      // kAdd, kUpdate: as it is now; kDelete: as the event had it (or the last state)
};

class Store {
 public:
  // Makes the store hold exactly `items`. The changes: deletions of keys no longer listed, then
  // additions and updates in key order (an item counts as updated if its resourceVersion, or
  // without one its content, differs). Items without metadata.name are left out and counted in
  // `rejected`.
  std::vector<Change> Replace(std::vector<Json> items, int* rejected = nullptr);

  // Applies an ADDED, MODIFIED or DELETED event (ADDED of a known key is an update, MODIFIED of
  // an unknown one an addition, DELETED of an unknown one nothing). nullopt for no change;
  // InvalidArgument for an object without metadata.name.
  absl::StatusOr<std::optional<Change>> Apply(const WatchEvent& event);

  std::optional<Json> Get(absl::string_view key) const;
  std::vector<Json> List() const;  // in key order
  size_t size() const { return objects_.size(); }

 private:
  std::map<std::string, Json, std::less<>> objects_;
};

}  // namespace weave::kube
