#include "colorgan/default_model.h"

#include <unistd.h>

namespace colorgan {

std::vector<std::string> default_model_locations() { return {CGAN_INSTALLED_MODEL, CGAN_SOURCE_TREE_MODEL}; }

std::string default_model_path() {
  for (const auto& path : default_model_locations()) {
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return "";
}

}  // namespace colorgan
