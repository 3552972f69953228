#include "common/kube/curl_transport.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using ListPtr = std::unique_ptr<curl_slist, ListDeleter>;

constexpr int kCancelPollMs = 100;

// What the write callback needs: where a body goes and why a transfer was ended early.
struct Exchange {
  CURL* easy = nullptr;
  const BodySink* sink = nullptr;
  std::string body;
  bool ended_by_sink = false;
  bool too_large = false;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(exchange->easy, CURLINFO_RESPONSE_CODE, &status);
  if (*exchange->sink && status / 100 == 2) {
    if ((*exchange->sink)(absl::string_view(data, n))) return n;
    exchange->ended_by_sink = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  if (exchange->body.size() + n > CurlTransport::kMaxBodySize) {
    exchange->too_large = true;
    return 0;
  }
  exchange->body.append(data, n);
  return n;
}

void SetBlob(CURL* easy, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(easy, option, &blob);
}

absl::Status TransferError(CURLcode code, const char* detail) {
  std::string message = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(message);
  return absl::UnavailableError(message);
}

}  // namespace

CurlTransport::CurlTransport(const Config& config)
    : server_(config.server),
      ca_pem_(config.ca_pem),
      client_cert_pem_(config.client_cert_pem),
      client_key_pem_(config.client_key_pem),
      connect_timeout_(config.connect_timeout) {}

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(const Config& config) {
  if (!absl::StartsWith(config.server, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("API server ", config.server, " is not https:// (TLS is required)"));
  }
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return absl::InternalError(absl::StrCat("initialising libcurl: ", curl_easy_strerror(init)));
  }
  return std::unique_ptr<CurlTransport>(new CurlTransport(config));
}

absl::StatusOr<Response> CurlTransport::RoundTrip(const Request& request, const BodySink& sink,
                                                  const absl::Notification* cancel) {
  EasyPtr easy(curl_easy_init());
  MultiPtr multi(curl_multi_init());
  if (!easy || !multi) return absl::ResourceExhaustedError("libcurl: out of memory");
  CURL* e = easy.get();
  const std::string url = server_ + request.path;
  char error[CURL_ERROR_SIZE] = "";
  Exchange exchange{e, &sink};

  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);  // a watch on a vanished server ends
  // Compression for collected bodies (large lists); not for streams, whose events a compressor
  // would hold back.
  if (!sink) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(connect_timeout_)));
  curl_easy_setopt(
      e, CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(request.timeout))));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_pem_.empty()) {
    // Only the configured CAs: not the system's as well.
    curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    SetBlob(e, CURLOPT_CAINFO_BLOB, ca_pem_);
  }
  if (!client_cert_pem_.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    SetBlob(e, CURLOPT_SSLCERT_BLOB, client_cert_pem_);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    SetBlob(e, CURLOPT_SSLKEY_BLOB, client_key_pem_);
  }

  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  ListPtr header_list(headers);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  if (request.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
  }

  curl_multi_add_handle(multi.get(), e);
  int running = 1;
  while (running > 0) {
    if (cancel != nullptr && cancel->HasBeenNotified()) {
      curl_multi_remove_handle(multi.get(), e);
      return absl::CancelledError("cancelled");
    }
    CURLMcode mc = curl_multi_perform(multi.get(), &running);
    if (mc == CURLM_OK && running > 0) {
      mc = curl_multi_poll(multi.get(), nullptr, 0, kCancelPollMs, nullptr);
    }
    if (mc != CURLM_OK) {
      curl_multi_remove_handle(multi.get(), e);
      return absl::InternalError(absl::StrCat("libcurl: ", curl_multi_strerror(mc)));
    }
  }
  CURLcode result = CURLE_OK;
  int pending = 0;
  while (CURLMsg* message = curl_multi_info_read(multi.get(), &pending)) {
    if (message->msg == CURLMSG_DONE) result = message->data.result;
  }
  curl_multi_remove_handle(multi.get(), e);

  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  if (result == CURLE_WRITE_ERROR && exchange.ended_by_sink) result = CURLE_OK;
  if (exchange.too_large) {
    return absl::UnavailableError(
        absl::StrCat("HTTP ", status, " answer larger than ", kMaxBodySize >> 20, " MiB"));
  }
  if (result != CURLE_OK) return TransferError(result, error);
  return Response{static_cast<int>(status), std::move(exchange.body)};
}

}  // namespace weave::kube
