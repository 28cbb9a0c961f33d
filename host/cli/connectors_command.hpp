// `ferry connectors list | status NAME | pause NAME | resume NAME | stop NAME |
// restart NAME [--only-failed]`: the REST API of the host named by the worker file,
// for operators at a terminal.
#pragma once

#include <string>

namespace ferry::cli {

struct ConnectorsArgs {
  std::string action;  // list, status, pause, resume, stop, restart
  std::string name;
  bool json = false;
  bool only_failed = false;
  std::string url;  // overrides the address from the worker file
};

// Exit code: 0 ok, 1 usage / no such connector, 2 the host could not be reached.
int cmd_connectors(const std::string& worker_path, const ConnectorsArgs& args);

}  // namespace ferry::cli
