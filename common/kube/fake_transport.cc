#include "common/kube/fake_transport.h"

#include "absl/strings/str_join.h"

namespace weave::kube {

FakeReply FakeReply::Json(int status, const kube::Json& body) {
  return Text(status, DumpJson(body));
}

FakeReply FakeReply::Text(int status, std::string body) {
  FakeReply reply;
  reply.status = status;
  reply.pieces.push_back(std::move(body));
  return reply;
}

FakeReply FakeReply::Failure(absl::Status error) {
  FakeReply reply;
  reply.error = std::move(error);
  return reply;
}

FakeTransport::FakeTransport(Handler handler, std::string server)
    : server_(std::move(server)), handler_(std::move(handler)) {}

absl::StatusOr<Response> FakeTransport::RoundTrip(const Request& request, const BodySink& sink,
                                                  const absl::Notification* cancel) {
  if (cancel != nullptr && cancel->HasBeenNotified()) return absl::CancelledError("cancelled");
  FakeReply reply;
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    reply = handler_(request);
  }
  if (!reply.error.ok()) return reply.error;
  Response response{reply.status, ""};
  if (!sink || reply.status / 100 != 2) {
    response.body = absl::StrJoin(reply.pieces, "");
    return response;
  }
  for (const std::string& piece : reply.pieces) {
    if (cancel != nullptr && cancel->HasBeenNotified()) return absl::CancelledError("cancelled");
    if (!sink(piece)) return response;
  }
  if (reply.hold_open) {
    if (cancel == nullptr) {
      absl::SleepFor(request.timeout);
    } else if (cancel->WaitForNotificationWithTimeout(request.timeout)) {
      return absl::CancelledError("cancelled");
    }
  }
  return response;
}

std::vector<Request> FakeTransport::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace weave::kube
