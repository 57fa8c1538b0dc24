#include "test_support.h"

#include "colorgan/model_file.h"

#include <torch/utils.h>

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace colorgan::testing {
namespace {

struct TempDirs {
  std::vector<std::filesystem::path> paths;
  ~TempDirs() {
    std::error_code ignored;
    for (const auto& p : paths) std::filesystem::remove_all(p, ignored);
  }
};
TempDirs temp_dirs;

}  // namespace

std::string make_temp_dir(const std::string& name) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("colorgan-" + name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  temp_dirs.paths.emplace_back(pattern);
  return pattern;
}

std::string write_test_model(const std::string& dir, const std::string& preset, unsigned seed) {
  torch::manual_seed(seed);
  Generator generator(GeneratorConfig::preset(preset));
  ModelMetadata meta;
  meta.training_width = meta.training_height = 32;
  meta.provenance = "test model, preset " + preset;
  const std::string path = dir + "/" + preset + "-" + std::to_string(seed) + ".cgan";
  save_model(path, generator, meta);
  return path;
}

std::string meson_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) throw std::runtime_error(std::string(name) + " is not set: run this test through meson test");
  return value;
}

int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace colorgan::testing
