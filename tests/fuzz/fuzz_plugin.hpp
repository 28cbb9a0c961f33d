// A plugin descriptor for the fuzz targets that validate configs: one option of every
// type (secret, required, ranged, enum), so the fuzzer reaches every checker path.
#pragma once

#include "ferry/abi.h"
#include "ferry/config.hpp"

namespace ferry::fuzz {

inline constexpr ferry_option kFuzzOptions[] = {
    opt::string("path", nullptr, "a required string", opt::kRequired),
    opt::string("password", "", "a secret", opt::kSecret),
    opt::list("paths", nullptr, "a list"),
    opt::boolean("flag", "false", "a boolean"),
    opt::one_of("mode", "tail|batch", "tail", "an enum"),
    opt::integer("count", "1", "an integer", 0, 1000),
    opt::duration("every", "1s", "a duration"),
    opt::size("max", "64KiB", "a size", 16, 1e9),
    ferry_option{"ratio", FERRY_OPT_FLOAT, FERRY_OPT_HAS_RANGE, "0.5", nullptr, 0, 1, "a float"},
};

inline const ferry_plugin& fuzz_plugin() {
  static ferry_plugin p = [] {
    ferry_plugin d{};
    d.struct_size = sizeof(ferry_plugin);
    d.name = "fuzz-source";
    d.version = "1";
    d.kind = FERRY_KIND_SOURCE;
    d.description = "fuzzing";
    d.options = kFuzzOptions;
    d.option_count = sizeof(kFuzzOptions) / sizeof(kFuzzOptions[0]);
    return d;
  }();
  return p;
}

}  // namespace ferry::fuzz
