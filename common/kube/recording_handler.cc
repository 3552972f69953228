#include "common/kube/recording_handler.h"

#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {

std::string Describe(const Json& object) {
  return absl::StrCat(NameOf(object), " ", ResourceVersionOf(object));
}

}  // namespace

void RecordingHandler::OnAdd(const Json& object) { Record("add " + Describe(object)); }

void RecordingHandler::OnUpdate(const Json& old_object, const Json& new_object) {
  Record(absl::StrCat("update ", Describe(old_object), " -> ", ResourceVersionOf(new_object)));
}

void RecordingHandler::OnDelete(const Json& last_known) {
  Record("delete " + Describe(last_known));
}

void RecordingHandler::OnSynced() { Record("synced"); }

std::vector<std::string> RecordingHandler::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

void RecordingHandler::Record(std::string event) {
  absl::MutexLock lock(&mu_);
  events_.push_back(std::move(event));
}

}  // namespace weave::kube
