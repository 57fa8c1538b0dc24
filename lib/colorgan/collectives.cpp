#include "colorgan/collectives.h"

#include <torch/autograd.h>

#include <stdexcept>

namespace colorgan {
namespace {

thread_local Collectives* sync_group = nullptr;

// y = (x - mean) * invstd * weight + bias with mean and invstd of the whole group's
// batch: the gradient of x needs the group's sums of dy and dy * x_hat as well.
// (As PyTorch's SyncBatchNorm: each rank's dx is W times its share of the mean loss's,
// which the gradient averaging after backward divides out.)
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  // mean and invstd in double; x_hat is kept in double for backward (twice a float
  // copy's memory): with x_hat in float, 2 ranks x batch 2 ended 10 steps 6.7e-5 from
  // 1 x batch 4 instead of 4.6e-6 (tests/test_distributed.sh's bound is 1e-4).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, const at::Tensor& mean, const at::Tensor& invstd, int64_t count) {
    const auto shape = std::vector<int64_t>{1, -1, 1, 1};
    const at::Tensor x_hat = (x.to(at::kDouble) - mean.view(shape)) * invstd.view(shape);
    ctx->save_for_backward({x_hat, weight, invstd});
    ctx->saved_data["count"] = count;
    return (x_hat * weight.view(shape) + bias.view(shape)).to(x.scalar_type());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x_hat = saved[0], &weight = saved[1], &invstd = saved[2];
    const double count = static_cast<double>(ctx->saved_data["count"].toInt());
    const at::Tensor dy = grads[0].contiguous();
    const auto shape = std::vector<int64_t>{1, -1, 1, 1};
    // Sums in double, as LibTorch's own batch norm accumulates on the CPU.
    const at::Tensor sum_dy = dy.sum({0, 2, 3}, false, at::kDouble);
    const at::Tensor sum_dy_x_hat = (dy.to(at::kDouble) * x_hat).sum({0, 2, 3});
    at::Tensor group_sums = at::cat({sum_dy, sum_dy_x_hat});
    if (sync_group == nullptr) throw std::logic_error("synchronized batch norm: backward outside its group's scope");
    sync_group->all_reduce_sum(group_sums);
    const int64_t channels = sum_dy.size(0);
    const at::Tensor mean_dy = group_sums.narrow(0, 0, channels) / count;
    const at::Tensor mean_dy_x_hat = group_sums.narrow(0, channels, channels) / count;
    const at::Tensor dx = (dy - mean_dy.view(shape) - x_hat * mean_dy_x_hat.view(shape)) *
                          (invstd * weight).view(shape);
    return {dx.to(dy.scalar_type()), sum_dy_x_hat.to(weight.scalar_type()), sum_dy.to(weight.scalar_type()),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor sync_batch_norm(torch::nn::BatchNorm2dImpl& norm, const at::Tensor& input, Collectives& group) {
  const at::Tensor x = input.to(at::kFloat);  // as batch norm under autocast
  const int64_t channels = x.size(1), local_count = x.numel() / std::max<int64_t>(channels, 1);
  // Every rank's (count, mean, biased variance), gathered by an all-reduce of rows that
  // only their own rank fills, then merged in double (Chan et al.): the same on every rank.
  at::Tensor rows = at::zeros({group.world_size(), 1 + 2 * channels}, x.options().dtype(at::kDouble));
  {
    torch::NoGradGuard no_grad;
    const auto [var, mean] = at::var_mean(x.to(at::kDouble), {0, 2, 3}, /*unbiased=*/false);
    rows[group.rank()][0] = static_cast<double>(local_count);
    rows[group.rank()].narrow(0, 1, channels).copy_(mean);
    rows[group.rank()].narrow(0, 1 + channels, channels).copy_(var);
  }
  group.all_reduce_sum(rows);
  const at::Tensor counts = rows.narrow(1, 0, 1), means = rows.narrow(1, 1, channels);
  const at::Tensor vars = rows.narrow(1, 1 + channels, channels);
  const double total = counts.sum().item<double>();
  const at::Tensor mean = (counts * means).sum(0) / total;
  const at::Tensor var = (counts * (vars + (means - mean).pow(2))).sum(0) / total;
  const auto& options = norm.options;
  {
    torch::NoGradGuard no_grad;
    const double momentum = options.momentum().value_or(0.1);
    norm.running_mean.mul_(1 - momentum).add_(mean.to(at::kFloat), momentum);
    norm.running_var.mul_(1 - momentum).add_((var * (total / std::max(total - 1, 1.0))).to(at::kFloat), momentum);
    norm.num_batches_tracked.add_(1);
  }
  const at::Tensor invstd = (var + options.eps()).rsqrt();
  return SyncBatchNormFunction::apply(x, norm.weight, norm.bias, mean, invstd, static_cast<int64_t>(total));
}

}  // namespace

SyncBatchNormScope::SyncBatchNormScope(Collectives* group) : previous_(sync_group) { sync_group = group; }
SyncBatchNormScope::~SyncBatchNormScope() { sync_group = previous_; }

at::Tensor batch_norm(torch::nn::BatchNorm2dImpl& norm, const at::Tensor& x) {
  if (sync_group == nullptr || sync_group->world_size() < 2 || !norm.is_training()) return norm.forward(x);
  return sync_batch_norm(norm, x, *sync_group);
}

}  // namespace colorgan
