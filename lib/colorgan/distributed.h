// Data-parallel training groups on LibTorch's c10d: a TCPStore rendezvous and
// ProcessGroupGloo (CPU tensors; CUDA tensors through host memory), addressed
// the way torchrun addresses its workers.
#pragma once

#include "colorgan/collectives.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace colorgan {

struct GroupAddress {
  int rank = 0;
  int world_size = 1;  // 1: no group (training as one process)
  int local_rank = 0;  // the rank among this machine's processes (picks its GPU)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// From torchrun's variables: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
// (world size 1 without them). Throws std::invalid_argument on values out of range.
GroupAddress group_address_from_environment();
// Checks a (possibly overridden) address; throws std::invalid_argument.
void check_group_address(const GroupAddress& address);

// Whether this build has c10d's Gloo process group (the `distributed` Meson feature).
bool distributed_available();

// Joins the group: rank 0 serves the TCPStore at master_addr:master_port and every
// rank waits there for the others (up to `timeout`); each collective later fails
// after `timeout` (a rank that died: at once, as its sockets close) instead of
// hanging. Gloo binds to GLOO_SOCKET_IFNAME's interface if set, to the loopback
// for a loopback master, else to this host name's address. Throws std::runtime_error.
std::shared_ptr<Collectives> join_group(const GroupAddress& address, std::chrono::milliseconds timeout);

}  // namespace colorgan
