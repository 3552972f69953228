// The store's reads: GET, LIST (at a revision, paged) and WATCH.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "test/kube/api_error.h"
#include "test/kube/object_meta.h"
#include "test/kube/store.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

bool HasPrefix(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

// The key prefix of `type`'s objects in `ns`, or in every namespace when `ns` is "".
std::string ScopePrefix(const ResourceType& type, const std::string& ns) {
  return ns.empty() ? absl::StrCat(type.group, "/", type.plural, "/") : ObjectKey(type, ns, "");
}

absl::Status TooOld(int64_t requested, int64_t oldest) {
  return ExpiredError(absl::StrCat("too old resource version: ", requested, " (", oldest + 1, ")"));
}

bool Selected(const json& object, const LabelSelector& labels, const FieldSelector& fields) {
  if (object.is_null()) return false;
  const json& meta = object["metadata"];
  return labels.Matches(meta.contains("labels") ? meta["labels"] : json()) &&
         fields.Matches(object);
}

}  // namespace

absl::StatusOr<json> Store::Get(const ResourceType& type, const std::string& ns,
                                const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(ObjectKey(type, type.namespaced ? ns : "", name));
  if (it == objects_.end()) return NotFoundError(type, name);
  return it->second;
}

Store::ObjectMap Store::SnapshotAt(const ResourceType& type, const std::string& ns,
                                   int64_t revision) const {
  const std::string prefix = ScopePrefix(type, ns);
  ObjectMap snapshot(objects_.lower_bound(prefix), objects_.end());
  for (auto it = snapshot.begin(); it != snapshot.end();) {
    it = HasPrefix(it->first, prefix) ? std::next(it) : snapshot.erase(it);
  }
  // Undo the newer events, newest first.
  for (auto it = history_.rbegin(); it != history_.rend() && it->resource_version > revision;
       ++it) {
    if (!HasPrefix(it->key, prefix)) continue;
    if (it->previous.is_null()) {
      snapshot.erase(it->key);
    } else {
      snapshot[it->key] = it->previous;
    }
  }
  return snapshot;
}

absl::StatusOr<json> Store::List(const ResourceType& type, const std::string& ns,
                                 const ListOptions& options) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t at = revision_;
  std::string after;
  if (!options.continue_token.empty()) {
    if (absl::Status s = DecodeContinue(options.continue_token, &at, &after); !s.ok()) return s;
    if (at < history_base_) {
      return ExpiredError(
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter.");
    }
  } else {
    absl::StatusOr<int64_t> requested = ParseResourceVersion(options.resource_version);
    if (!requested.ok()) return requested.status();
    if (*requested > revision_) {
      return ApiError(
          504, "Timeout",
          absl::StrCat("Too large resource version: ", *requested, ", current: ", revision_));
    }
    const bool exact = options.resource_version_match == "Exact";
    if (*requested > 0 && *requested < history_base_ &&
        (exact || options_.expire_old_list_versions)) {
      return TooOld(*requested, history_base_);
    }
    if (exact && *requested > 0) at = *requested;
  }
  const ObjectMap snapshot = SnapshotAt(type, ns, at);
  json items = json::array();
  std::string last_key;
  int64_t remaining = 0;
  for (auto it = snapshot.upper_bound(after); it != snapshot.end(); ++it) {
    if (!Selected(it->second, options.labels, options.fields)) continue;
    if (options.limit > 0 && static_cast<int64_t>(items.size()) >= options.limit) {
      ++remaining;
      continue;
    }
    json item = it->second;
    // Like the real server, items of a typed list carry no kind or apiVersion.
    item.erase("kind");
    item.erase("apiVersion");
    items.push_back(std::move(item));
    last_key = it->first;
  }
  json meta = {{"resourceVersion", absl::StrCat(at)}};
  if (remaining > 0) {
    meta["continue"] = EncodeContinue(at, last_key);
    if (options.labels.empty() && options.fields.empty()) meta["remainingItemCount"] = remaining;
  }
  return json{{"kind", type.ListKind()},
              {"apiVersion", type.GroupVersion()},
              {"metadata", meta},
              {"items", items}};
}

json BookmarkEvent(const ResourceType& type, int64_t revision, bool initial_events_end) {
  json meta = {{"resourceVersion", absl::StrCat(revision)}, {"creationTimestamp", nullptr}};
  if (initial_events_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  return {
      {"type", "BOOKMARK"},
      {"object", {{"kind", type.kind}, {"apiVersion", type.GroupVersion()}, {"metadata", meta}}}};
}

absl::StatusOr<std::unique_ptr<Watcher>> Store::Watch(const ResourceType& type,
                                                      const std::string& ns, WatchOptions options) {
  absl::StatusOr<int64_t> requested = ParseResourceVersion(options.resource_version);
  if (!requested.ok()) return requested.status();
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Watcher> watcher(new Watcher(this, &type, ns, std::move(options)));
  watcher->generation_ = watch_generation_;
  if (*requested > revision_ && watcher->options_.send_initial_events) {
    return ApiError(
        504, "Timeout",
        absl::StrCat("Too large resource version: ", *requested, ", current: ", revision_));
  }
  if (*requested <= 0 || watcher->options_.send_initial_events) {
    // "Get State and Start at Most Recent": the current objects as ADDED, then changes.
    for (const auto& [key, object] : SnapshotAt(type, ns, revision_)) {
      if (Selected(object, watcher->options_.labels, watcher->options_.fields)) {
        watcher->pending_.push_back({{"type", "ADDED"}, {"object", object}});
      }
    }
    watcher->cursor_ = revision_;
    if (watcher->options_.send_initial_events) {
      watcher->pending_.push_back(BookmarkEvent(type, revision_, true));
    }
  } else if (*requested < history_base_) {
    // The real server's watch cache answers 200 and then this ERROR event.
    watcher->pending_.push_back(
        {{"type", "ERROR"}, {"object", StatusObject(TooOld(*requested, history_base_))}});
    watcher->done_ = true;
  } else {
    watcher->cursor_ = *requested;
  }
  return watcher;
}

Watcher::Batch Watcher::Next(absl::Duration wait) {
  Batch batch;
  batch.events = std::move(pending_);
  pending_.clear();
  if (done_) {
    batch.closed = true;
    return batch;
  }
  std::unique_lock<std::mutex> lock(store_->mu_);
  auto ready = [&] {
    return store_->revision_ > cursor_ || store_->watch_generation_ != generation_;
  };
  if (batch.events.empty()) {
    store_->changed_.wait_for(lock, absl::ToChronoNanoseconds(wait), ready);
  }
  if (store_->watch_generation_ != generation_) {
    done_ = batch.closed = true;
    return batch;
  }
  if (cursor_ < store_->history_base_) {
    batch.events.push_back(
        {{"type", "ERROR"}, {"object", StatusObject(TooOld(cursor_, store_->history_base_))}});
    done_ = batch.closed = true;
    return batch;
  }
  const std::string prefix = ScopePrefix(*type_, ns_);
  const auto& history = store_->history_;
  auto first = std::upper_bound(history.begin(), history.end(), cursor_,
                                [](int64_t revision, const Store::Event& event) {
                                  return revision < event.resource_version;
                                });
  for (auto it = first; it != history.end(); ++it) {
    const Store::Event& event = *it;
    if (!HasPrefix(event.key, prefix)) continue;
    const bool now =
        Selected(event.type == "DELETED" ? json() : event.object, options_.labels, options_.fields);
    const bool before = Selected(event.previous, options_.labels, options_.fields);
    json object = event.object;
    std::string type;
    if (event.type == "DELETED") {
      type = before ? "DELETED" : "";
    } else if (now) {
      type = before ? "MODIFIED" : "ADDED";
    } else if (before) {
      // Left the selection: DELETED with the previous content at this revision.
      type = "DELETED";
      object = event.previous;
      object["metadata"]["resourceVersion"] = absl::StrCat(event.resource_version);
    }
    if (!type.empty()) batch.events.push_back({{"type", type}, {"object", std::move(object)}});
  }
  cursor_ = store_->revision_;
  return batch;
}

}  // namespace weave::testing::kube
