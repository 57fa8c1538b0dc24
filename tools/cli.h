// The colorgan tools' command lines, on CLI11: --help lists every option with
// its default, "was it given" is app.count("--name") (no sentinel values), `--`
// ends the options, and misuse exits with status 2 after the message and the help.
#pragma once

#include "colorgan/options.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace colorgan::cli {

// The help layout every tool shares: "usage: NAME SYNOPSIS" (CLI11's own usage
// line when the synopsis is empty), then the options with their defaults.
void configure(CLI::App& app, const std::string& synopsis = "");

// An option that takes one of `choices` by name and sets `target` to its value;
// --help lists the names and shows the current value's name as the default.
template <class T>
CLI::Option* add_choice(CLI::App& app, const std::string& name, T& target,
                        const std::vector<std::pair<std::string, T>>& choices, const std::string& help) {
  std::vector<std::string> names;
  std::string current;
  for (const auto& [text, value] : choices) {
    names.push_back(text);
    if (value == target) current = text;
  }
  return app
      .add_option_function<std::string>(
          name,
          [&target, choices](const std::string& text) {
            for (const auto& [choice, value] : choices) {
              if (choice == text) target = value;
            }
          },
          help)
      ->check(CLI::IsMember(names))
      ->default_str(current);
}

// Parses argv, or a prepared list in command-line order. --help prints the
// help to stdout and exits 0; misuse prints "PROGRAM: message" and the help
// to stderr and exits 2.
void parse(CLI::App& app, int argc, char** argv);
void parse(CLI::App& app, const std::vector<std::string>& args);

// "PROGRAM: message" and the help on stderr, exit 2: misuse found after parsing.
[[noreturn]] void fail(const CLI::App& app, const std::string& message);

// Runs a tool's body: std::invalid_argument (bad input) -> message, status 2;
// any other std::exception -> message, status 1. First lines only (LibTorch
// appends a C++ stack trace to its messages).
int run(const CLI::App& app, const std::function<int()>& body);

// --precision auto | fp32 | bf16 for the tools that run a model.
inline CLI::Option* add_precision(CLI::App& app, Precision& target) {
  return add_choice<Precision>(app, "--precision", target,
                               {{"auto", Precision::Auto}, {"fp32", Precision::Fp32}, {"bf16", Precision::Bf16}},
                               "number format of the model's convolutions; auto: bf16 on CPUs with AVX512-BF16 or "
                               "AMX-BF16 and on CUDA, fp32 elsewhere");
}

// Values in [0, 1): decays, Adam's betas.
extern const CLI::Validator kUnitInterval;

}  // namespace colorgan::cli
