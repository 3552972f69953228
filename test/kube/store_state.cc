// The store's life beyond the REST verbs: opening, the state file, seeding, history and watches.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "test/kube/api_error.h"
#include "test/kube/object_meta.h"
#include "test/kube/store.h"

namespace weave::testing::kube {

using nlohmann::json;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  std::unique_ptr<Store> store(new Store(std::move(options)));
  const std::string& path = store->options_.state_file;
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      json state = json::parse(text.str(), nullptr, false);
      if (!state.is_object()) {
        return absl::DataLossError(absl::StrCat("state file ", path, " is not a JSON object"));
      }
      if (absl::Status s = store->LoadState(state); !s.ok()) return s;
      return store;
    }
  }
  for (const char* ns : {"default", "kube-system"}) {
    absl::StatusOr<json> created =
        store->Create(NamespaceResource(), "", {{"metadata", {{"name", ns}}}});
    if (!created.ok()) return created.status();
  }
  store->CompactHistory();
  return store;
}

absl::Status Store::LoadState(const json& state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!state.contains("resourceVersion") || !state["resourceVersion"].is_number_integer() ||
      !state.contains("objects") || !state["objects"].is_array()) {
    return absl::DataLossError("state has no resourceVersion or objects");
  }
  revision_ = state["resourceVersion"].get<int64_t>();
  for (const json& object : state["objects"]) {
    const ResourceType* type =
        FindResourceByKind(StringField(object, "apiVersion"), StringField(object, "kind"));
    if (type == nullptr) {
      return absl::DataLossError(
          absl::StrCat("state holds an object of no served type: ", object.dump()));
    }
    objects_[ObjectKey(*type, MetaString(object, "namespace"), MetaString(object, "name"))] =
        object;
    int64_t version = 0;
    if (absl::SimpleAtoi(MetaString(object, "resourceVersion"), &version)) {
      revision_ = std::max(revision_, version);
    }
  }
  history_base_ = revision_;
  return absl::OkStatus();
}

void Store::Persist() const {
  const std::string& path = options_.state_file;
  if (path.empty()) return;
  json objects = json::array();
  for (const auto& [key, object] : objects_) objects.push_back(object);
  const json state = {{"resourceVersion", revision_}, {"objects", objects}};
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << state.dump() << "\n";
    if (!out) std::fprintf(stderr, "fake-apiserver: cannot write %s\n", temp.c_str());
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "fake-apiserver: cannot rename %s to %s\n", temp.c_str(), path.c_str());
  }
}

absl::StatusOr<json> Store::Put(json object) {
  if (!object.is_object()) return BadRequestError("an object must be a JSON object");
  const ResourceType* type =
      FindResourceByKind(StringField(object, "apiVersion"), StringField(object, "kind"));
  if (type == nullptr) {
    return BadRequestError(absl::StrCat("no served type has apiVersion ",
                                        StringField(object, "apiVersion"), " and kind ",
                                        StringField(object, "kind")));
  }
  std::lock_guard<std::mutex> lock(mu_);
  const std::string ns = type->namespaced ? MetaString(object, "namespace") : "";
  const std::string name = MetaString(object, "name");
  const std::string key = ObjectKey(*type, ns, name);
  if (type->namespaced && ns.empty()) {
    return BadRequestError(absl::StrCat(type->kind, " ", name, " has no metadata.namespace"));
  }
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    if (object.contains("metadata")) object["metadata"].erase("resourceVersion");
    absl::StatusOr<std::string> created_key = PrepareCreate(*type, ns, object);
    if (!created_key.ok()) return created_key.status();
    return Commit(*type, key, std::move(object), "ADDED");
  }
  for (const char* field : {"uid", "creationTimestamp", "resourceVersion"}) {
    if (MetaString(object, field).empty())
      object["metadata"][field] = it->second["metadata"][field];
  }
  object["metadata"]["resourceVersion"] = it->second["metadata"]["resourceVersion"];
  if (object == it->second) return object;
  return Commit(*type, key, std::move(object), "MODIFIED");
}

absl::Status Store::Seed(const json& objects) {
  const json list = !objects.is_object()        ? objects
                    : objects.contains("items") ? objects["items"]
                                                : json::array({objects});
  if (!list.is_array()) return BadRequestError("seed: expected a JSON array or a List of objects");
  for (const json& object : list) {
    if (absl::StatusOr<json> put = Put(object); !put.ok()) {
      return absl::Status(put.status().code(),
                          absl::StrCat("seeding ", object.dump(), ": ", put.status().message()));
    }
  }
  return absl::OkStatus();
}

int64_t Store::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

void Store::CompactHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  history_.clear();
  history_base_ = revision_;
  changed_.notify_all();
}

void Store::CloseAllWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++watch_generation_;
  changed_.notify_all();
}

}  // namespace weave::testing::kube
