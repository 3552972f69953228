// An EventHandler for tests that writes down what it is told, one line per call:
//   "add <name> <rv>", "update <name> <old rv> -> <new rv>", "delete <name> <rv>", "synced"
// Thread-safe: the Reflector calls it on its thread while the test reads.
#pragma once

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/kube/reflector.h"

namespace weave::kube {

class RecordingHandler : public EventHandler {
 public:
  void OnAdd(const Json& object) override;
  void OnUpdate(const Json& old_object, const Json& new_object) override;
  void OnDelete(const Json& last_known) override;
  void OnSynced() override;

  std::vector<std::string> events() const;

 private:
  void Record(std::string event);

  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::kube
