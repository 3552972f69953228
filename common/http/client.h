// A one-shot HTTP(S) GET, for the rare outbound calls the router makes (the optional version
// check). TLS certificates are verified.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weave::http {

// The body of a 200 answer to GET `url` ("http://host[:port]/path?query" or https);
// Unavailable naming the URL and the reason otherwise.
absl::StatusOr<std::string> Get(const std::string& url, absl::Duration timeout);

}  // namespace weave::http
