// machine-health: the one binary. See app/command.h for the CLI's shape.
#include <iostream>
#include <string>
#include <vector>

#include "app/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  mh::app::CommandIo io{std::cout, std::cerr};
  return mh::app::RunMain(args, io);
}
