// What data-parallel training needs from a group of processes, and batch norm
// over the whole group's batch. colorgan/distributed.h implements the group on
// LibTorch's c10d; this header needs neither c10d nor Gloo.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/batchnorm.h>

namespace colorgan {

// A group of world_size() processes. Every call is collective: each rank makes
// the same calls in the same order, or the group waits (and times out).
class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: every rank ends with the sum of every rank's tensor.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  // In place: every rank ends with rank 0's tensor (same shape and dtype on every rank).
  virtual void broadcast(at::Tensor& tensor) = 0;
};

// While one is alive, batch norm layers in training mode on this thread use the
// mean and variance of the whole group's batch (synchronized batch norm; the
// gradients flow back across ranks the same way), so that W ranks with batch B
// train as one process with batch W x B. Elsewhere they are plain batch norm.
class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(Collectives* group);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

 private:
  Collectives* previous_;
};

// norm(x), synchronized over the group of the innermost SyncBatchNormScope in training mode.
at::Tensor batch_norm(torch::nn::BatchNorm2dImpl& norm, const at::Tensor& x);

}  // namespace colorgan
