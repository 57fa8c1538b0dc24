// Image quality metrics for judging colorizations. Images are float RGB
// tensors [3, H, W] in [0,1].
#pragma once

#include <ATen/core/Tensor.h>

namespace colorgan {

// PSNR over all RGB values, peak 1. Identical images give +infinity.
double psnr(const at::Tensor& a, const at::Tensor& b);

// SSIM on BT.601 luma (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5,
// K1 = 0.01, K2 = 0.03, dynamic range 1), mean over the valid window positions.
double ssim_luma(const at::Tensor& a, const at::Tensor& b);

// Colourfulness (Hasler & Suesstrunk 2003) on 0-255 values:
// rg = R - G, yb = (R + G)/2 - B, CF = sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2).
// The paper's metric uses signed opponent values; |.| of the means is the same.
double colorfulness(const at::Tensor& rgb);

// sRGB [3,H,W] -> CIELAB [3,H,W] (D65).
at::Tensor srgb_to_lab(const at::Tensor& rgb);

// CIEDE2000 colour difference per pixel between two Lab tensors [3, ...] (Sharma et al. 2005).
at::Tensor ciede2000(const at::Tensor& lab1, const at::Tensor& lab2);

// Mean CIEDE2000 between two sRGB images.
double mean_ciede2000(const at::Tensor& a, const at::Tensor& b);

// False colour on neutrals: CIELAB chroma C*ab = sqrt(a*^2 + b*^2) (D65) of a
// prediction over the pixels whose truth is near-neutral (C*ab below the
// threshold: walls, snow, sky haze, pavement). A sum and a count, so that sets
// of images pool their pixels.
struct ChromaOnNeutrals {
  double chroma_sum = 0;
  int64_t pixels = 0;
  double mean() const;  // NaN without neutral pixels
  ChromaOnNeutrals& operator+=(const ChromaOnNeutrals& o);
};
ChromaOnNeutrals chroma_on_neutrals(const at::Tensor& prediction, const at::Tensor& truth, double threshold = 5.0);

}  // namespace colorgan
