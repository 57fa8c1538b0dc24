// The choices that cross from the elements and the tools into the library, as
// enums: parsed once, where a user typed them. No LibTorch or GLib types here
// (the elements include it); GStreamer enum properties use these values.
#pragma once

#include <string>

namespace colorgan {

enum class NoiseDistribution { Gaussian, Uniform };
// How a stream's noise changes from frame to frame: one plane for the whole
// stream (stable colours), a fresh one per frame, or one that drifts slowly.
enum class NoiseMode { Fixed, PerFrame, Drift };
enum class ChromaUpsampling { Guided, Bicubic };  // how chroma at the working size reaches the frame's size
// Number format of the engine's convolutions. Auto: bf16 where it is fast and
// close (CPUs with AVX512-BF16 or AMX-BF16, checked at run time; CUDA GPUs), else fp32.
enum class Precision { Fp32, Bf16, Auto };

// Names as users type them; the parsers throw std::invalid_argument naming the choices.
NoiseDistribution parse_noise_distribution(const std::string& name);  // gaussian | uniform
ChromaUpsampling parse_chroma_upsampling(const std::string& name);    // guided | bicubic
Precision parse_precision(const std::string& name);                   // fp32 | bf16 | auto
const char* to_string(NoiseDistribution distribution);
const char* to_string(ChromaUpsampling upsampling);
const char* to_string(Precision precision);

}  // namespace colorgan
