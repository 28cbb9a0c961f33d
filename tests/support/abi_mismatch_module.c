/* A module built for a future, incompatible plugin ABI: the host must refuse it. */
#include "ferry/abi.h"

static const ferry_module kModule = {99u,
                                     0u,
                                     sizeof(ferry_module),
                                     sizeof(ferry_plugin),
                                     sizeof(ferry_record_view),
                                     sizeof(ferry_host_api),
                                     0,
                                     0};

__attribute__((visibility("default"))) const ferry_module* ferry_module_entry(void) {
  return &kModule;
}
