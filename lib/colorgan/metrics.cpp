#include "colorgan/metrics.h"

#include "colorgan/colorspace.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace colorgan {
namespace {

void check_rgb(const at::Tensor& t, const char* what) {
  if (t.dim() != 3 || t.size(0) != 3) throw std::invalid_argument(std::string(what) + ": expected [3,H,W] RGB");
}

void check_pair(const at::Tensor& a, const at::Tensor& b, const char* what) {
  check_rgb(a, what);
  if (a.sizes() != b.sizes()) throw std::invalid_argument(std::string(what) + ": images differ in size");
}

at::Tensor luma(const at::Tensor& rgb) { return rgb_to_luma(rgb); }

}  // namespace

double psnr(const at::Tensor& a, const at::Tensor& b) {
  check_pair(a, b, "psnr");
  const double mse = (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).mean().item<double>();
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / mse);
}

double ssim_luma(const at::Tensor& a, const at::Tensor& b) {
  check_pair(a, b, "ssim");
  constexpr int kWindow = 11;
  constexpr double kSigma = 1.5, kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  const auto x = luma(a.to(at::kDouble)).unsqueeze(0).unsqueeze(0);
  const auto y = luma(b.to(at::kDouble)).unsqueeze(0).unsqueeze(0);
  const int64_t k = std::min<int64_t>({kWindow, x.size(2), x.size(3)});
  auto g = at::arange(k, at::kDouble) - (k - 1) / 2.0;
  g = at::exp(-g * g / (2 * kSigma * kSigma));
  g = g / g.sum();
  const auto window = at::outer(g, g).view({1, 1, k, k});
  auto blur = [&](const at::Tensor& t) { return at::conv2d(t, window); };
  const auto mx = blur(x), my = blur(y);
  const auto sxx = blur(x * x) - mx * mx, syy = blur(y * y) - my * my, sxy = blur(x * y) - mx * my;
  const auto map = ((2 * mx * my + kC1) * (2 * sxy + kC2)) / ((mx * mx + my * my + kC1) * (sxx + syy + kC2));
  return map.mean().item<double>();
}

double colorfulness(const at::Tensor& rgb) {
  check_rgb(rgb, "colorfulness");
  const auto v = rgb.to(at::kDouble) * 255.0;
  const auto rg = v[0] - v[1];
  const auto yb = 0.5 * (v[0] + v[1]) - v[2];
  const double std_rg = rg.std(/*unbiased=*/false).item<double>(), std_yb = yb.std(false).item<double>();
  const double mean_rg = rg.mean().item<double>(), mean_yb = yb.mean().item<double>();
  return std::sqrt(std_rg * std_rg + std_yb * std_yb) + 0.3 * std::sqrt(mean_rg * mean_rg + mean_yb * mean_yb);
}

at::Tensor srgb_to_lab(const at::Tensor& rgb) {
  check_rgb(rgb, "srgb_to_lab");
  const auto c = rgb.to(at::kDouble).clamp(0, 1);
  const auto linear = at::where(c <= 0.04045, c / 12.92, at::pow((c + 0.055) / 1.055, 2.4));
  const auto m = at::tensor({0.4124564, 0.3575761, 0.1804375,   //
                             0.2126729, 0.7151522, 0.0721750,   //
                             0.0193339, 0.1191920, 0.9503041},
                            at::kDouble)
                     .view({3, 3});
  auto xyz = at::tensordot(m, linear, {1}, {0});
  const auto white = at::tensor({0.95047, 1.0, 1.08883}, at::kDouble).view({3, 1, 1});
  xyz = xyz / white;
  constexpr double kEps = 216.0 / 24389.0, kKappa = 24389.0 / 27.0;
  const auto f = at::where(xyz > kEps, at::pow(xyz, 1.0 / 3.0), (kKappa * xyz + 16.0) / 116.0);
  return at::stack({116.0 * f[1] - 16.0, 500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])});
}

at::Tensor ciede2000(const at::Tensor& lab1, const at::Tensor& lab2) {
  const double pi = M_PI;
  const auto L1 = lab1[0].to(at::kDouble), a1 = lab1[1].to(at::kDouble), b1 = lab1[2].to(at::kDouble);
  const auto L2 = lab2[0].to(at::kDouble), a2 = lab2[1].to(at::kDouble), b2 = lab2[2].to(at::kDouble);
  const auto C1 = at::sqrt(a1 * a1 + b1 * b1), C2 = at::sqrt(a2 * a2 + b2 * b2);
  const auto Cbar7 = at::pow((C1 + C2) / 2.0, 7);
  const auto G = 0.5 * (1.0 - at::sqrt(Cbar7 / (Cbar7 + std::pow(25.0, 7))));
  const auto a1p = (1.0 + G) * a1, a2p = (1.0 + G) * a2;
  const auto C1p = at::sqrt(a1p * a1p + b1 * b1), C2p = at::sqrt(a2p * a2p + b2 * b2);
  auto hue = [&](const at::Tensor& b, const at::Tensor& ap) {
    auto h = at::atan2(b, ap);
    h = at::where(h < 0, h + 2 * pi, h);
    return at::where((b == 0) & (ap == 0), at::zeros_like(h), h);
  };
  const auto h1p = hue(b1, a1p), h2p = hue(b2, a2p);
  const auto dLp = L2 - L1, dCp = C2p - C1p;
  const auto zero_chroma = (C1p * C2p) == 0;
  auto dhp = h2p - h1p;
  dhp = at::where(dhp > pi, dhp - 2 * pi, at::where(dhp < -pi, dhp + 2 * pi, dhp));
  dhp = at::where(zero_chroma, at::zeros_like(dhp), dhp);
  const auto dHp = 2.0 * at::sqrt(C1p * C2p) * at::sin(dhp / 2.0);
  const auto Lbarp = (L1 + L2) / 2.0, Cbarp = (C1p + C2p) / 2.0;
  auto hbarp = at::where((h1p - h2p).abs() > pi,
                         at::where(h1p + h2p < 2 * pi, (h1p + h2p + 2 * pi) / 2.0, (h1p + h2p - 2 * pi) / 2.0),
                         (h1p + h2p) / 2.0);
  hbarp = at::where(zero_chroma, h1p + h2p, hbarp);
  const double deg = pi / 180.0;
  const auto T = 1.0 - 0.17 * at::cos(hbarp - 30 * deg) + 0.24 * at::cos(2.0 * hbarp) +
                 0.32 * at::cos(3.0 * hbarp + 6 * deg) - 0.20 * at::cos(4.0 * hbarp - 63 * deg);
  const auto dtheta = 30 * deg * at::exp(-at::pow((hbarp / deg - 275.0) / 25.0, 2));
  const auto Cbarp7 = at::pow(Cbarp, 7);
  const auto Rc = 2.0 * at::sqrt(Cbarp7 / (Cbarp7 + std::pow(25.0, 7)));
  const auto Lm = at::pow(Lbarp - 50.0, 2);
  const auto Sl = 1.0 + 0.015 * Lm / at::sqrt(20.0 + Lm);
  const auto Sc = 1.0 + 0.045 * Cbarp, Sh = 1.0 + 0.015 * Cbarp * T;
  const auto Rt = -at::sin(2.0 * dtheta) * Rc;
  const auto tl = dLp / Sl, tc = dCp / Sc, th = dHp / Sh;
  return at::sqrt(tl * tl + tc * tc + th * th + Rt * tc * th);
}

double mean_ciede2000(const at::Tensor& a, const at::Tensor& b) {
  check_pair(a, b, "ciede2000");
  return ciede2000(srgb_to_lab(a), srgb_to_lab(b)).mean().item<double>();
}

double ChromaOnNeutrals::mean() const {
  return pixels > 0 ? chroma_sum / static_cast<double>(pixels) : std::numeric_limits<double>::quiet_NaN();
}

ChromaOnNeutrals& ChromaOnNeutrals::operator+=(const ChromaOnNeutrals& o) {
  chroma_sum += o.chroma_sum;
  pixels += o.pixels;
  return *this;
}

ChromaOnNeutrals chroma_on_neutrals(const at::Tensor& prediction, const at::Tensor& truth, double threshold) {
  check_pair(prediction, truth, "chroma_on_neutrals");
  auto chroma = [](const at::Tensor& rgb) {
    const auto lab = srgb_to_lab(rgb);
    return at::sqrt(lab[1] * lab[1] + lab[2] * lab[2]);
  };
  const auto neutral = chroma(truth) < threshold;
  return {chroma(prediction).masked_select(neutral).sum().item<double>(), neutral.sum().item<int64_t>()};
}

}  // namespace colorgan
