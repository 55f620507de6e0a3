// loom: the live command line. Subcommands arrive with later issues (agent,
// status, ...); for now it says who it is and refuses what it does not know.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "real-backend/policy_cli.h"

#ifndef LOOM_VERSION
#define LOOM_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{"Loom: a simulator and live testbed for the Weave Net design", "loom"};
  app.allow_extras();  // unknown commands get our own message, below
  auto* version = app.add_subcommand("version", "Print the version and exit");
  loom::live::PolicyCommand policy(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "loom: " << e.what() << "\nRun 'loom --help' for usage.\n";
    return 2;
  }

  if (!app.remaining().empty()) {
    std::cerr << "loom: unknown command '" << app.remaining().front()
              << "'\nRun 'loom --help' for the commands there are.\n";
    return 2;
  }
  if (version->parsed()) {
    std::cout << "loom " << LOOM_VERSION << "\n";
    return 0;
  }
  if (policy.parsed()) return policy.run(std::cout, std::cerr);
  std::cerr << app.help() << "loom: no command given\n";
  return 2;
}
