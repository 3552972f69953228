// A Transport for unit tests: a handler written by the test answers each request; the fake
// records the requests and plays the answer back as the real transport would (a body in pieces
// to a sink, an early end when the sink says so, Cancelled when `cancel` is notified).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/kube/object.h"
#include "common/kube/transport.h"

namespace weave::kube {

struct FakeReply {
  absl::Status error;  // not OK: the exchange fails with this, nothing else counts
  int status = 200;
  std::vector<std::string> pieces;  // the body, in the pieces a sink receives
  // After the pieces, wait until `cancel` is notified (Cancelled) or the request's timeout passes
  // (the server ending the stream: the Response), as a watch with nothing to report does.
  bool hold_open = false;

  static FakeReply Json(int status, const kube::Json& body);
  static FakeReply Text(int status, std::string body);
  static FakeReply Failure(absl::Status error);
};

class FakeTransport : public Transport {
 public:
  using Handler = std::function<FakeReply(const Request&)>;

  // `handler` is called on the thread of each exchange, one exchange at a time.
  explicit FakeTransport(Handler handler, std::string server = "https://fake.invalid:443");

  const std::string& server() const override { return server_; }
  absl::StatusOr<Response> RoundTrip(const Request& request, const BodySink& sink,
                                     const absl::Notification* cancel) override;

  std::vector<Request> requests() const;  // every request so far, in order

 private:
  const std::string server_;
  mutable absl::Mutex mu_;
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::kube
