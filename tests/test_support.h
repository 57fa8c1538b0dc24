// Helpers shared by the test programs; no LibTorch types, so element tests stay light.
#pragma once

#include <string>
#include <vector>

namespace colorgan::testing {

// A fresh empty directory under the build's temp area, removed at exit.
std::string make_temp_dir(const std::string& name);

// Writes an untrained model file (random weights from `seed`) of a preset
// ("tiny", "seed", "public-code") and returns its path.
std::string write_test_model(const std::string& dir, const std::string& preset = "tiny", unsigned seed = 0);

// The value of an environment variable meson test sets (COLORGAN_MODELS, ...);
// throws, naming it, when the test runs outside meson test.
std::string meson_env(const char* name);

// Runs a program (argv[0] a path; no shell) and returns its exit status (-1 if it could not run).
int run_program(const std::vector<std::string>& argv);

}  // namespace colorgan::testing
