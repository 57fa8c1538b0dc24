// The exceptions libcolorgan throws for bad input; no LibTorch types here.
#pragma once

#include <stdexcept>

namespace colorgan {

// Any failure to read or write a model file; what() names the file.
class ModelFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A device request that cannot be met (bad name, CUDA without CUDA).
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace colorgan
