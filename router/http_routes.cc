#include "router/http_routes.h"

#include <google/protobuf/util/json_util.h>

#include "common/metrics/exposition.h"
#include "router/metrics.h"
#include "router/status/render.h"

namespace weave::router {
namespace {

http::Route TextRoute(std::string path, StatusSource source,
                      std::string (*render)(const v1::Status&)) {
  return {std::move(path), [source, render](const http::Request&) {
            return http::Response{200, "text/plain; charset=utf-8", render(source())};
          }};
}

}  // namespace

std::vector<http::Route> StatusRoutes(StatusSource source) {
  std::vector<http::Route> routes = {
      {"/status",
       [source](const http::Request&) {
         v1::Status status = source();
         return http::Response{status.ready() ? 200 : 503, "text/plain; charset=utf-8",
                               status::RenderStatus(status)};
       }},
      TextRoute("/status/peers", source, status::RenderPeers),
      TextRoute("/status/connections", source, status::RenderConnections),
      TextRoute("/status/targets", source, status::RenderTargets),
      TextRoute("/status/ipam", source, status::RenderIpam),
      {"/report",
       [source](const http::Request&) {
         std::string json;
         google::protobuf::util::JsonPrintOptions options;
         options.add_whitespace = true;
         options.always_print_primitive_fields = true;
         auto result = google::protobuf::util::MessageToJsonString(source(), &json, options);
         if (!result.ok()) {
           return http::Response{500, "text/plain", std::string(result.message()) + "\n"};
         }
         return http::Response{200, "application/json", json};
       }},
  };
  for (http::Route& route : MetricsRoutes(source)) routes.push_back(std::move(route));
  return routes;
}

std::vector<http::Route> MetricsRoutes(StatusSource source) {
  return {{"/metrics", [source](const http::Request&) {
             return http::Response{200, metrics::kContentType,
                                   metrics::RenderText(RouterMetrics(source()))};
           }}};
}

}  // namespace weave::router
