#include "charts/generator/service.h"

#include "absl/strings/str_cat.h"
#include "charts/generator/manifest.h"

namespace weave::charts {

http::Route ManifestRoute() {
  return {kManifestPath, [](const http::Request& request) {
            absl::StatusOr<std::string> manifest = GenerateManifest(request.raw_query);
            if (!manifest.ok()) {
              return http::Response{400, "text/plain; charset=utf-8",
                                    absl::StrCat(manifest.status().message(), "\n")};
            }
            return http::Response{200, "application/yaml; charset=utf-8", *manifest};
          }};
}

}  // namespace weave::charts
