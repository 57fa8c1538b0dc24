#include "colorgan/networks.h"

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace colorgan {
namespace {

// e^x for x <= 0 (a logit minus its pixel's largest), to ~2e-7 relative: x = n ln 2 + r with
// |r| <= ln 2 / 2, e^r by its Taylor series to r^6, 2^n into the exponent bits. Written so
// that GCC vectorizes the loops that call it (no calls, no branches).
inline float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);  // e^-87 is still a normal float
  const float n = static_cast<float>(static_cast<int32_t>(x * 1.44269504f - 0.5f));  // round(x / ln 2), x <= 0
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 in two parts: exact n * hi
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// The cells' layer runs over blocks of this many logits, held in registers across the r maps
// (4 AVX512 vectors: independent sums that hide the FMA's latency); K is padded to a multiple.
constexpr int64_t kCellsBlock = 64;

// One block of pixels. Logits: each row of `in` (K of them), or with `cells` (r > 0) the
// cells' layer of each row's r maps, bias + cells . maps, into `logits` (K floats, K a
// multiple of kCellsBlock); their exps go to `weights` (K floats).
__attribute__((target_clones("avx512f", "avx2", "default"))) void softmax_centres_rows(
    const float* __restrict in, int64_t rows, int64_t classes, int64_t rank, const float* __restrict cells,
    const float* __restrict bias, const float* __restrict cu, const float* __restrict cv, float* __restrict logits,
    float* __restrict weights, float* __restrict out) {
  constexpr int kLanes = 16;  // running maxima and sums, so the reductions vectorize in a fixed order
  for (int64_t p = 0; p < rows; ++p) {
    if (rank > 0) {  // cells is [r, K]: the inner loop runs along K
      const float* maps = in + p * rank;
      for (int64_t k0 = 0; k0 < classes; k0 += kCellsBlock) {
        float sums[kCellsBlock];
        for (int64_t k = 0; k < kCellsBlock; ++k) sums[k] = bias[k0 + k];
        for (int64_t j = 0; j < rank; ++j) {
          const float m = maps[j];
          const float* c = cells + j * classes + k0;
          for (int64_t k = 0; k < kCellsBlock; ++k) sums[k] += m * c[k];
        }
        for (int64_t k = 0; k < kCellsBlock; ++k) logits[k0 + k] = sums[k];
      }
    }
    const float* l = rank > 0 ? logits : in + p * classes;
    float tops[kLanes];
    for (int j = 0; j < kLanes; ++j) tops[j] = l[0];
    int64_t k = 0;
    for (; k + kLanes <= classes; k += kLanes) {
      for (int j = 0; j < kLanes; ++j) tops[j] = std::max(tops[j], l[k + j]);
    }
    for (int j = 0; k < classes; ++k, ++j) tops[j] = std::max(tops[j], l[k]);
    float top = tops[0];
    for (int j = 1; j < kLanes; ++j) top = std::max(top, tops[j]);
    for (k = 0; k < classes; ++k) weights[k] = exp_nonpositive(l[k] - top);
    float sum[kLanes] = {}, su[kLanes] = {}, sv[kLanes] = {};
    for (k = 0; k + kLanes <= classes; k += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        sum[j] += weights[k + j];
        su[j] += weights[k + j] * cu[k + j];
        sv[j] += weights[k + j] * cv[k + j];
      }
    }
    for (int j = 0; k < classes; ++k, ++j) {
      sum[j] += weights[k];
      su[j] += weights[k] * cu[k];
      sv[j] += weights[k] * cv[k];
    }
    float s = 0, u = 0, v = 0;
    for (int j = 0; j < kLanes; ++j) {
      s += sum[j];
      u += su[j];
      v += sv[j];
    }
    out[2 * p] = u / s;
    out[2 * p + 1] = v / s;
  }
}

bool cpu_float(const at::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; }

}  // namespace

at::Tensor softmax_centres(const at::Tensor& in, const at::Tensor& centres, const at::Tensor& cells_weight,
                           const at::Tensor& cells_bias) {
  const bool cells = cells_weight.defined();
  const int64_t classes = centres.dim() == 2 ? centres.size(0) : 0;
  if (in.dim() != 2 || classes < 1 || centres.size(1) != 2 ||
      (cells ? !cells_bias.defined() || cells_weight.sizes() != at::IntArrayRef{classes, in.size(1)} ||
                   cells_bias.sizes() != at::IntArrayRef{classes}
             : in.size(1) != classes)) {
    throw std::invalid_argument("softmax_centres: needs logits [P,K] and centres [K,2], or maps [P,r], centres [K,2], "
                                "cells_weight [K,r] and cells_bias [K]");
  }
  if (!cpu_float(in) || !in.is_contiguous() || !cpu_float(centres) ||
      (cells && (!cpu_float(cells_weight) || !cpu_float(cells_bias)))) {
    throw std::invalid_argument("softmax_centres: needs float tensors on the CPU, the first contiguous");
  }
  // With a cells' layer, the K cells padded to a multiple of kCellsBlock: zero weights and centres,
  // a bias so low that their exp is e^-87 (against a sum of at least 1).
  const int64_t padded = cells ? (classes + kCellsBlock - 1) / kCellsBlock * kCellsBlock : classes;
  const auto pad = [&](const at::Tensor& t, float value) {  // [.., K] -> [.., padded], contiguous
    return at::constant_pad_nd(t, {0, padded - classes}, value).contiguous();
  };
  const at::Tensor c = pad(centres.t(), 0);  // [2, K]: U's row, V's row
  const at::Tensor w = cells ? pad(cells_weight.t(), 0) : at::Tensor();  // [r, K]
  const at::Tensor b = cells ? pad(cells_bias, -1e30f) : at::Tensor();
  const int64_t rank = cells ? in.size(1) : 0;
  at::Tensor out = at::empty({in.size(0), 2}, in.options());
  const float* cu = c.data_ptr<float>();
  const float* source = in.data_ptr<float>();
  float* uv = out.data_ptr<float>();
  at::parallel_for(0, in.size(0), 256, [&](int64_t first, int64_t last) {
    std::vector<float> logits(padded), weights(padded);
    softmax_centres_rows(source + first * in.size(1), last - first, padded, rank, cells ? w.data_ptr<float>() : nullptr,
                         cells ? b.data_ptr<float>() : nullptr, cu, cu + padded, logits.data(), weights.data(),
                         uv + 2 * first);
  });
  return out;
}

}  // namespace colorgan
