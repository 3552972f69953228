// YAML text for Kubernetes manifests, written from JSON values.
//
// Why our own emitter: the spec documents the generator's output down to the indentation and
// quotes (`- name: WEAVE_MTU` / `value: '1337'`), which is the js-yaml style the original
// generator used: block mappings indented by two, block sequences indented under their key,
// and strings single-quoted only where a plain scalar would read as something else (a number,
// a boolean, null, a date) or would not parse. A general-purpose emitter makes other choices.
//
// The output is a block-style document that YAML 1.1 (go-yaml, which kubectl uses) and YAML 1.2
// readers both load back to exactly `document`; keys keep the ordered_json order.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::charts {

// `document` is an object (a Kubernetes object or a List) or an array. Floating-point numbers
// are not expected in manifests and are written with JSON's formatting.
std::string EmitYaml(const nlohmann::ordered_json& document);

// How a string is written as a scalar: plain when that reads back as the same string,
// otherwise single-quoted, or double-quoted (with escapes) when it holds control characters.
std::string YamlScalar(absl::string_view text);

}  // namespace weave::charts
