#include "colorgan/options.h"

#include <stdexcept>

namespace colorgan {
namespace {

// One table per enum: the name a user types for each value.
template <typename Enum, size_t N>
Enum parse(const std::pair<Enum, const char*> (&names)[N], const std::string& name, const char* what) {
  std::string choices;
  for (const auto& [value, text] : names) {
    if (name == text) return value;
    choices += (choices.empty() ? "" : " or ") + std::string(text);
  }
  throw std::invalid_argument("unknown " + std::string(what) + " '" + name + "' (expected " + choices + ")");
}

template <typename Enum, size_t N>
const char* name_of(const std::pair<Enum, const char*> (&names)[N], Enum value) {
  for (const auto& [candidate, text] : names) {
    if (candidate == value) return text;
  }
  return "?";
}

const std::pair<NoiseDistribution, const char*> kDistributions[] = {{NoiseDistribution::Gaussian, "gaussian"},
                                                                     {NoiseDistribution::Uniform, "uniform"}};
const std::pair<ChromaUpsampling, const char*> kUpsamplings[] = {{ChromaUpsampling::Guided, "guided"},
                                                                 {ChromaUpsampling::Bicubic, "bicubic"}};
const std::pair<Precision, const char*> kPrecisions[] = {
    {Precision::Fp32, "fp32"}, {Precision::Bf16, "bf16"}, {Precision::Auto, "auto"}};

}  // namespace

NoiseDistribution parse_noise_distribution(const std::string& name) {
  return parse(kDistributions, name, "noise distribution");
}
ChromaUpsampling parse_chroma_upsampling(const std::string& name) {
  return parse(kUpsamplings, name, "chroma upsampling");
}
Precision parse_precision(const std::string& name) { return parse(kPrecisions, name, "precision"); }
const char* to_string(NoiseDistribution distribution) { return name_of(kDistributions, distribution); }
const char* to_string(ChromaUpsampling upsampling) { return name_of(kUpsamplings, upsampling); }
const char* to_string(Precision precision) { return name_of(kPrecisions, precision); }

}  // namespace colorgan
