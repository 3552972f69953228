// The store's writes: create, update, patch, delete, and the commit they share.
#include "test/kube/store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "test/kube/api_error.h"
#include "test/kube/object_meta.h"
#include "test/kube/patch.h"

namespace weave::testing::kube {

using nlohmann::json;

std::string ObjectKey(const ResourceType& type, const std::string& ns, const std::string& name) {
  return absl::StrCat(type.group, "/", type.plural, "/", ns, "/", name);
}

namespace {

// Fills kind and apiVersion when absent; BadRequest when they name another type.
absl::Status CheckTypeFields(const ResourceType& type, json& object) {
  if (!object.is_object()) return BadRequestError("the request body is not a JSON object");
  json& kind = object["kind"];
  json& api_version = object["apiVersion"];
  if (kind.is_null()) kind = type.kind;
  if (api_version.is_null()) api_version = type.GroupVersion();
  if (kind != type.kind || api_version != type.GroupVersion()) {
    return BadRequestError(absl::StrCat("the API version in the data (", api_version.dump(),
                                        ") and kind (", kind.dump(), ") do not match ",
                                        type.GroupVersion(), " ", type.kind));
  }
  if (!object["metadata"].is_object()) object["metadata"] = json::object();
  return absl::OkStatus();
}

// The namespace in the body must agree with the URL's; cluster-scoped objects have none.
absl::Status CheckNamespace(const ResourceType& type, const std::string& ns, json& object) {
  json& meta = object["metadata"];
  if (!type.namespaced) {
    meta.erase("namespace");
    return absl::OkStatus();
  }
  const std::string given = MetaString(object, "namespace");
  if (!given.empty() && given != ns) {
    return BadRequestError(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  meta["namespace"] = ns;
  return absl::OkStatus();
}

}  // namespace

std::string Store::NewUid() {
  const uint64_t a = random_(), b = random_();
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                         0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

json Store::Commit(const ResourceType& type, const std::string& key, json object,
                   const std::string& event_type) {
  ++revision_;
  Event event{event_type, revision_, &type, key, json(), json()};
  auto it = objects_.find(key);
  if (it != objects_.end()) event.previous = it->second;
  if (object.is_null()) {
    event.object = event.previous;
    objects_.erase(key);
  } else {
    object["metadata"]["resourceVersion"] = absl::StrCat(revision_);
    objects_[key] = object;
    event.object = object;
  }
  event.object["metadata"]["resourceVersion"] = absl::StrCat(revision_);
  json stored = event.object;
  history_.push_back(std::move(event));
  while (history_.size() > options_.history_limit) {
    history_base_ = history_.front().resource_version;
    history_.pop_front();
  }
  Persist();
  changed_.notify_all();
  return stored;
}

absl::StatusOr<std::string> Store::PrepareCreate(const ResourceType& type, const std::string& ns,
                                                 json& object) {
  if (absl::Status s = CheckTypeFields(type, object); !s.ok()) return s;
  if (absl::Status s = CheckNamespace(type, ns, object); !s.ok()) return s;
  json& meta = object["metadata"];
  std::string name = MetaString(object, "name");
  if (name.empty() && !MetaString(object, "generateName").empty()) {
    name = absl::StrCat(MetaString(object, "generateName"),
                        absl::StrFormat("%05x", random_() & 0xfffff));
    meta["name"] = name;
  }
  if (absl::Status s = ValidateName(type, name); !s.ok()) return s;
  if (type.namespaced && !objects_.count(ObjectKey(NamespaceResource(), "", ns))) {
    return NotFoundError(NamespaceResource(), ns);
  }
  const std::string key = ObjectKey(type, type.namespaced ? ns : "", name);
  if (objects_.count(key)) return AlreadyExistsError(type, name);
  if (meta.contains("uid") && !meta["uid"].is_string()) meta.erase("uid");
  if (MetaString(object, "uid").empty()) meta["uid"] = NewUid();
  if (MetaString(object, "creationTimestamp").empty()) {
    meta["creationTimestamp"] = ApiTime(absl::Now());
  }
  return key;
}

absl::StatusOr<json> Store::Create(const ResourceType& type, const std::string& ns, json object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!MetaString(object, "resourceVersion").empty()) {
    return ApiError(500, "InternalError",
                    "resourceVersion should not be set on objects to be created");
  }
  absl::StatusOr<std::string> key = PrepareCreate(type, ns, object);
  if (!key.ok()) return key.status();
  object["metadata"]["uid"] = NewUid();
  object["metadata"]["creationTimestamp"] = ApiTime(absl::Now());
  // The registry's PrepareForCreate: kubelets report pod status, the namespace controller
  // namespace status.
  if (type.kind == "Pod") object["status"] = {{"phase", "Pending"}};
  if (type.kind == "Namespace") {
    object["spec"] = {{"finalizers", {"kubernetes"}}};
    object["status"] = {{"phase", "Active"}};
  }
  return Commit(type, *key, std::move(object), "ADDED");
}

absl::StatusOr<json> Store::UpdateLocked(const ResourceType& type, const std::string& ns,
                                         const std::string& name, json object, bool status_only) {
  const std::string key = ObjectKey(type, type.namespaced ? ns : "", name);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError(type, name);
  const json& old = it->second;
  if (absl::Status s = CheckTypeFields(type, object); !s.ok()) return s;
  if (absl::Status s = CheckNamespace(type, ns, object); !s.ok()) return s;
  const std::string given_name = MetaString(object, "name");
  if (given_name != name) {
    return BadRequestError(absl::StrCat("the name of the object (", given_name,
                                        ") does not match the name on the URL (", name, ")"));
  }
  const std::string given_version = MetaString(object, "resourceVersion");
  if (!given_version.empty() && given_version != MetaString(old, "resourceVersion")) {
    return ConflictError(type, name,
                         "the object has been modified; please apply your changes to the latest "
                         "version and try again");
  }
  json updated;
  if (status_only) {
    updated = old;
    if (object.contains("status")) {
      updated["status"] = object["status"];
    } else {
      updated.erase("status");
    }
  } else {
    updated = std::move(object);
    if (type.has_status) {
      if (old.contains("status")) {
        updated["status"] = old["status"];
      } else {
        updated.erase("status");
      }
    }
    for (const char* field : {"uid", "creationTimestamp"}) {
      updated["metadata"][field] = old["metadata"][field];
    }
  }
  updated["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"];
  if (updated == old) return old;
  return Commit(type, key, std::move(updated), "MODIFIED");
}

absl::StatusOr<json> Store::Update(const ResourceType& type, const std::string& ns,
                                   const std::string& name, json object, bool status_only) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpdateLocked(type, ns, name, std::move(object), status_only);
}

absl::StatusOr<json> Store::Patch(const ResourceType& type, const std::string& ns,
                                  const std::string& name, absl::string_view content_type,
                                  absl::string_view body, bool status_only) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(ObjectKey(type, type.namespaced ? ns : "", name));
  if (it == objects_.end()) return NotFoundError(type, name);
  absl::StatusOr<json> patched = ApplyPatch(it->second, content_type, body);
  if (!patched.ok()) return patched.status();
  // A resourceVersion in the patch is a precondition, checked by the update like a PUT's.
  return UpdateLocked(type, ns, name, *std::move(patched), status_only);
}

json Store::DeleteLocked(const ResourceType& type, const std::string& key) {
  if (type.kind == "Namespace") {
    const std::string ns = objects_.at(key)["metadata"]["name"];
    std::vector<std::pair<const ResourceType*, std::string>> contents;
    for (const ResourceType& t : Resources()) {
      if (!t.namespaced) continue;
      const std::string prefix = ObjectKey(t, ns, "");
      for (auto it = objects_.lower_bound(prefix);
           it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        contents.emplace_back(&t, it->first);
      }
    }
    for (const auto& [t, k] : contents) Commit(*t, k, nullptr, "DELETED");
  }
  return Commit(type, key, nullptr, "DELETED");
}

absl::StatusOr<json> Store::Delete(const ResourceType& type, const std::string& ns,
                                   const std::string& name, const json& delete_options) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = ObjectKey(type, type.namespaced ? ns : "", name);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError(type, name);
  if (delete_options.is_object() && delete_options.contains("preconditions") &&
      delete_options["preconditions"].is_object()) {
    const json& pre = delete_options["preconditions"];
    for (const char* field : {"uid", "resourceVersion"}) {
      if (!pre.contains(field) || !pre[field].is_string()) continue;
      const std::string want = pre[field], have = MetaString(it->second, field);
      if (want != have) {
        return ConflictError(type, name,
                             absl::StrCat("Precondition failed: ",
                                          field == std::string("uid") ? "UID" : "ResourceVersion",
                                          " in precondition: ", want, ", ",
                                          field == std::string("uid") ? "UID" : "ResourceVersion",
                                          " in object meta: ", have));
      }
    }
  }
  return DeleteLocked(type, key);
}

}  // namespace weave::testing::kube
