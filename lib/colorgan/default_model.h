// Where the project's default model lives. No LibTorch types here.
#pragma once

#include <string>
#include <vector>

namespace colorgan {

// Looked up in order: the installed model (<prefix>/share/colorgan/models/default.cgan),
// then the source tree's models/default.cgan (for runs from a build tree).
std::vector<std::string> default_model_locations();

// The first location that exists, or "" when there is none.
std::string default_model_path();

}  // namespace colorgan
