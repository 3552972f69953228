// The fake API server's control endpoints under /_fake/ (see fake_apiserver.h), for tests that
// run the fake-apiserver binary and so cannot call the library.
#pragma once

#include <string>
#include <vector>

#include "test/kube/faults.h"
#include "test/kube/rest_handler.h"
#include "test/kube/store.h"
#include "test/kube/token_authenticator.h"

namespace weave::testing::kube {

// What the control endpoints act on.
struct ControlTargets {
  Store& store;
  FaultInjector& faults;
  TokenAuthenticator& tokens;
  std::vector<std::string> recent_requests;
};

// Answers a request whose path starts with /_fake/.
RestResponse HandleControl(const RestRequest& request, const ControlTargets& targets);

}  // namespace weave::testing::kube
