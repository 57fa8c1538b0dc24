#include "colorgan/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace colorgan {

void write_file_atomically(const std::string& path, const std::string& bytes, const char* what) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    throw std::runtime_error(std::string("cannot write ") + what + " '" + path + "': " + reason);
  }
}

}  // namespace colorgan
