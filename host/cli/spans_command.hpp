// `ferry spans get ID | list [--state S] [--json] | watch [--from-beginning]`.
// get and list ask the REST API of the host named by the worker file; watch follows the
// span topic itself, so it works from any machine that can reach Kafka.
#pragma once

#include <string>

namespace ferry::cli {

struct SpansArgs {
  std::string action;  // get, list, watch
  std::string id;
  std::string state;
  bool json = false;
  bool from_beginning = false;
  std::string url;  // overrides the address from the worker file
};

// Exit code: 0 ok, 1 usage / not found, 2 the host or Kafka could not be reached.
int cmd_spans(const std::string& worker_path, const SpansArgs& args);

}  // namespace ferry::cli
