// --replay mode of ivrapi-mock-server (replay_mode.cpp).
#pragma once

#include <string>
#include <vector>

// `args` are the command line without the program name; returns the exit status.
int run_replay_mode(const std::vector<std::string>& args);
