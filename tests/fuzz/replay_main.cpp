// A main() for the fuzz targets where libFuzzer is not linked (gcc builds, the
// test suite): runs every corpus file through the target, then a fixed number of
// deterministic mutations of each (bit flips, truncations, splices), so the
// suite's short pass explores beyond the corpus and is the same on every run.
// Usage: replay CORPUS_DIR_OR_FILE... [--mutations N]
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string mutate(std::string input, std::mt19937& random) {
  if (input.empty()) return std::string(1, static_cast<char>(random()));
  switch (random() % 4) {
    case 0: input[random() % input.size()] ^= static_cast<char>(1u << (random() % 8)); break;
    case 1: input.resize(random() % input.size()); break;
    case 2: input[random() % input.size()] = static_cast<char>(random()); break;
    default: {
      const size_t at = random() % input.size(), length = std::min<size_t>(input.size() - at, 1 + random() % 16);
      input.insert(random() % input.size(), input.substr(at, length));
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  int mutations = 0;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::atoi(argv[++i]);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) files.push_back(entry.path());
    } else {
      files.push_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR_OR_FILE... [--mutations N]\n";
    return 2;
  }
  std::mt19937 random(12345);
  long runs = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run(input);
    ++runs;
    for (int m = 0; m < mutations; ++m, ++runs) run(mutate(input, random));
  }
  std::cout << runs << " inputs from " << files.size() << " corpus files: no crash\n";
  return 0;
}
