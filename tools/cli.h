// A small command-line parser shared by the colorgan tools: --flag VALUE
// options, switches, positionals (all after --), --help, and exit code 2 on misuse.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

class ArgParser {
 public:
  ArgParser(std::string program, std::string synopsis, std::string description);

  void option(const std::string& name, std::string* target, const std::string& help);
  void option(const std::string& name, int64_t* target, const std::string& help);
  void option(const std::string& name, uint64_t* target, const std::string& help);
  void option(const std::string& name, double* target, const std::string& help);
  void option(const std::string& name, std::vector<std::string>* target, const std::string& help);  // repeatable
  void flag(const std::string& name, bool* target, const std::string& help);

  // Parses argv; prints usage and exits 0 on --help, prints the error and
  // usage and exits 2 on misuse. Returns the positional arguments.
  std::vector<std::string> parse(int argc, char** argv);
  // The same over a prepared list (e.g. arguments saved by an earlier run).
  std::vector<std::string> parse(const std::vector<std::string>& args);

  bool was_set(const std::string& name) const { return set_.count(name) > 0; }
  [[noreturn]] void fail(const std::string& message) const;  // message + usage, exit 2
  // Runs a tool's body: std::invalid_argument (bad input) -> message, status 2;
  // any other std::exception -> message, status 1.
  int run(const std::function<int()>& body) const;
  void print_usage(bool to_stderr) const;

 private:
  struct Option {
    std::string help;
    bool takes_value;
    std::function<void(const std::string&)> set;
  };
  void add(const std::string& name, Option option);

  std::string program_, synopsis_, description_;
  std::map<std::string, Option> options_;
  std::vector<std::string> order_;
  std::set<std::string> set_;
};
