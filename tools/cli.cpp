#include "cli.h"

#include "colorgan/errors.h"

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <stdexcept>

ArgParser::ArgParser(std::string program, std::string synopsis, std::string description)
    : program_(std::move(program)), synopsis_(std::move(synopsis)), description_(std::move(description)) {
  add("--help", {"show this help and exit", false, [](const std::string&) {}});
}

void ArgParser::add(const std::string& name, Option option) {
  options_[name] = std::move(option);
  order_.push_back(name);
}

void ArgParser::option(const std::string& name, std::string* target, const std::string& help) {
  add(name, {help, true, [target](const std::string& v) { *target = v; }});
}

void ArgParser::option(const std::string& name, int64_t* target, const std::string& help) {
  add(name, {help, true, [target, name](const std::string& v) {
               size_t used = 0;
               *target = std::stoll(v, &used);
               if (used != v.size()) throw std::invalid_argument(v);
             }});
}

void ArgParser::option(const std::string& name, uint64_t* target, const std::string& help) {
  add(name, {help, true, [target](const std::string& v) {
               size_t used = 0;
               if (!v.empty() && v[0] == '-') throw std::invalid_argument(v);
               *target = std::stoull(v, &used);
               if (used != v.size()) throw std::invalid_argument(v);
             }});
}

void ArgParser::option(const std::string& name, double* target, const std::string& help) {
  add(name, {help, true, [target](const std::string& v) {
               size_t used = 0;
               *target = std::stod(v, &used);
               if (used != v.size()) throw std::invalid_argument(v);
             }});
}

void ArgParser::option(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  add(name, {help + " (repeatable)", true, [target](const std::string& v) { target->push_back(v); }});
}

void ArgParser::flag(const std::string& name, bool* target, const std::string& help) {
  add(name, {help, false, [target](const std::string&) { *target = true; }});
}

void ArgParser::print_usage(bool to_stderr) const {
  std::ostream& out = to_stderr ? std::cerr : std::cout;
  out << "usage: " << program_ << " " << synopsis_ << "\n\n" << description_ << "\n\noptions:\n";
  for (const auto& name : order_) {
    const Option& o = options_.at(name);
    out << "  " << std::left << std::setw(22) << (name + (o.takes_value ? " V" : "")) << " " << o.help << "\n";
  }
}

void ArgParser::fail(const std::string& message) const {
  std::cerr << program_ << ": " << message << "\n\n";
  print_usage(true);
  std::exit(2);
}

int ArgParser::run(const std::function<int()>& body) const {
  // First lines only: LibTorch appends a C++ stack trace to its messages.
  try {
    return body();
  } catch (const std::invalid_argument& e) {
    std::cerr << program_ << ": " << colorgan::first_line(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program_ << ": " << colorgan::first_line(e.what()) << "\n";
    return 1;
  }
}

std::vector<std::string> ArgParser::parse(int argc, char** argv) {
  return parse(std::vector<std::string>(argv + 1, argv + argc));
}

std::vector<std::string> ArgParser::parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {  // the rest are positionals, even if they start with -
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg == "-h" || arg == "--help") {
      print_usage(false);
      std::exit(0);
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    const auto eq = arg.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto found = options_.find(name);
    if (found == options_.end()) fail("unknown option " + name);
    if (found->second.takes_value && !inline_value) {
      if (i + 1 >= args.size()) fail("missing value for " + name);
      value = args[++i];
    }
    try {
      found->second.set(value);
    } catch (const std::exception&) {
      fail("bad value '" + value + "' for " + name);
    }
    set_.insert(name);
  }
  return positional;
}
