// Files written whole or not at all: model files, checkpoints, and the tools'
// logs and reports. No LibTorch types here.
#pragma once

#include <string>

namespace colorgan {

// Writes `bytes` to a temporary file beside `path` (path.tmp.PID), then renames
// it over `path`: readers see the old file or the new one, never a part.
// Throws std::runtime_error("cannot write <what> '<path>': <reason>").
void write_file_atomically(const std::string& path, const std::string& bytes, const char* what = "file");

}  // namespace colorgan
