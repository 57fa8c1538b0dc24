// The exceptions libcolorgan throws for bad input; no LibTorch types here.
#pragma once

#include <stdexcept>
#include <string>

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

// The first line of an exception's message: LibTorch appends a C++ stack trace
// after it, which is no message for a user.
inline std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

}  // namespace colorgan
