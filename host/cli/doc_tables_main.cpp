// ferry_doc_tables: prints docs/options.md (worker and connector file options, built-in
// transforms) from the tables that validate them. A build tool, not installed: run by
// scripts/gen-plugin-docs.sh and, to catch stale docs, by the test command.
#include <iostream>

#include "cli/plugin_docs.hpp"

int main() {
  std::cout << ferry::cli::options_reference_markdown();
  return 0;
}
