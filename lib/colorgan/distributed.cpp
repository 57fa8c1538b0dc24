#include "colorgan/distributed.h"

#include "colorgan/errors.h"

#include <cstdlib>
#include <stdexcept>

#ifdef COLORGAN_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace colorgan {
namespace {

int int_from_environment(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != std::string(text).size()) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string(name) + "='" + text + "' is not a whole number");
  }
}

#ifdef COLORGAN_HAVE_C10D
class GlooGroup : public Collectives {
 public:
  GlooGroup(const GroupAddress& address, std::chrono::milliseconds timeout) : rank_(address.rank) {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(address.master_port);
    store_options.isServer = address.rank == 0;
    store_options.numWorkers = address.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    store_ = c10::make_intrusive<c10d::TCPStore>(address.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    if (interface != nullptr && *interface != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    } else if (address.master_addr == "localhost" || address.master_addr.rfind("127.", 0) == 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, address.rank, address.world_size, options);
  }
  int rank() const override { return rank_; }
  int world_size() const override { return group_->getSize(); }
  void all_reduce_sum(at::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    wait("all-reduce", [&] { return group_->allreduce(tensors); });
  }
  void broadcast(at::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    wait("broadcast", [&] { return group_->broadcast(tensors); });
  }

 private:
  // A peer that died or hung ends every rank's run with this error, not a hang.
  template <class Start>
  void wait(const char* what, const Start& start) {
    try {
      start()->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("training group: ") + what + " failed on rank " + std::to_string(rank_) +
                               " (did another rank stop?): " + first_line(e.what()));
    }
  }

  int rank_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};
#endif

}  // namespace

GroupAddress group_address_from_environment() {
  GroupAddress a;
  a.rank = int_from_environment("RANK", 0);
  a.world_size = int_from_environment("WORLD_SIZE", 1);
  a.local_rank = int_from_environment("LOCAL_RANK", 0);
  a.master_port = int_from_environment("MASTER_PORT", a.master_port);
  if (const char* host = std::getenv("MASTER_ADDR"); host != nullptr && *host != '\0') a.master_addr = host;
  check_group_address(a);
  return a;
}

void check_group_address(const GroupAddress& a) {
  if (a.world_size < 1 || a.world_size > 65536) throw std::invalid_argument("the world size must be 1 to 65536");
  if (a.rank < 0 || a.rank >= a.world_size) {
    throw std::invalid_argument("rank " + std::to_string(a.rank) + " is outside a world of " +
                                std::to_string(a.world_size));
  }
  if (a.local_rank < 0) throw std::invalid_argument("the local rank must not be negative");
  if (a.master_port < 1 || a.master_port > 65535) throw std::invalid_argument("the master port must be 1 to 65535");
  if (a.master_addr.empty()) throw std::invalid_argument("the master address is empty");
}

bool distributed_available() {
#ifdef COLORGAN_HAVE_C10D
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Collectives> join_group(const GroupAddress& address, std::chrono::milliseconds timeout) {
  check_group_address(address);
#ifdef COLORGAN_HAVE_C10D
  try {
    return std::make_shared<GlooGroup>(address, timeout);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot join the training group at " + address.master_addr + ":" +
                             std::to_string(address.master_port) + " as rank " + std::to_string(address.rank) +
                             " of " + std::to_string(address.world_size) + ": " + first_line(e.what()));
  }
#else
  (void)timeout;
  throw std::runtime_error("this colorgan was built without distributed training (-Ddistributed=enabled needs "
                           "LibTorch's c10d headers and libgloo-dev)");
#endif
}

}  // namespace colorgan
