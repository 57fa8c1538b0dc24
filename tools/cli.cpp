#include "cli.h"

#include "colorgan/errors.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace colorgan::cli {

const CLI::Validator kUnitInterval(
    [](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value) || !(value >= 0 && value < 1)) return "must be in [0, 1)";
      return {};
    },
    "in [0, 1)");

namespace {

class SynopsisFormatter : public CLI::Formatter {
 public:
  explicit SynopsisFormatter(std::string synopsis) : synopsis_(std::move(synopsis)) { column_width(30); }
  std::string make_usage(const CLI::App* app, std::string name) const override {
    return synopsis_.empty() ? CLI::Formatter::make_usage(app, name) : "\nusage: " + name + " " + synopsis_ + "\n";
  }

 private:
  std::string synopsis_;
};

std::string program_name(const CLI::App& app) {
  const CLI::App* root = &app;
  std::string name = app.get_name();
  while (root->get_parent() != nullptr) {
    root = root->get_parent();
    name = root->get_name() + " " + name;
  }
  return name;
}

void handle(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {  // --help
    std::cout << app.help();
    std::exit(0);
  }
  // The subcommand that failed has the help that fits.
  const CLI::App* failed = &app;
  for (const CLI::App* sub : app.get_subcommands()) failed = sub;
  fail(*failed, e.what());
}

}  // namespace

void configure(CLI::App& app, const std::string& synopsis) {
  app.formatter(std::make_shared<SynopsisFormatter>(synopsis));
  app.option_defaults()->always_capture_default();
}

void parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    handle(app, e);
  }
}

void parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the list last argument first
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    handle(app, e);
  }
}

void fail(const CLI::App& app, const std::string& message) {
  std::cerr << program_name(app) << ": " << message << "\nRun with --help for more information.\n";
  std::exit(2);
}

int run(const CLI::App& app, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::invalid_argument& e) {
    std::cerr << program_name(app) << ": " << colorgan::first_line(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program_name(app) << ": " << colorgan::first_line(e.what()) << "\n";
    return 1;
  }
}

}  // namespace colorgan::cli
