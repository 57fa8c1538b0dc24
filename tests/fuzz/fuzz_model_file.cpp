// Fuzz target: load_model() on arbitrary bytes. Any outcome but a model or a
// ModelFileError (a crash, another exception, a huge allocation) is a bug.
#include "colorgan/model_file.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // load_model() takes a path: the bytes go to a file of this process's own.
  static const std::string path = "/tmp/colorgan-fuzz-model-" + std::to_string(getpid()) + ".cgan";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  try {
    colorgan::load_model(path);
  } catch (const colorgan::ModelFileError&) {
  }
  std::remove(path.c_str());
  return 0;
}
