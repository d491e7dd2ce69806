// Helpers for tests: fixture paths, JSON, float comparison, running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tformer/core/cpu.h"

namespace tformer::testing {

inline std::filesystem::path shared_dir() { return TFORMER_SHARED_DIR; }
inline std::filesystem::path fixtures_dir() { return shared_dir() / "fixtures"; }
inline std::filesystem::path source_dir() { return TFORMER_SOURCE_DIR; }

inline nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << "cannot open " << p;
  return nlohmann::json::parse(in);
}

// Asserts |actual − expected| ≤ rel·|expected| + abs elementwise.
inline void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                         double rel, double abs, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double err = std::fabs(double(actual[i]) - expected[i]) - rel * std::fabs(expected[i]);
    if (err > worst || std::isnan(actual[i])) {
      worst = std::isnan(actual[i]) ? INFINITY : err;
      worst_i = i;
    }
  }
  EXPECT_LE(worst, abs) << what << ": element " << worst_i << " is " << actual[worst_i]
                        << ", expected " << expected[worst_i];
}

inline std::vector<float> flatten(const nlohmann::json& j) {
  std::vector<float> out;
  if (j.is_array()) {
    for (const auto& x : j) {
      auto part = flatten(x);
      out.insert(out.end(), part.begin(), part.end());
    }
  } else {
    out.push_back(j.get<float>());
  }
  return out;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (and stderr when merged)
};

// Runs a shell command line, capturing stdout (append "2>&1" to merge stderr).
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string cli() { return std::string("'") + TFORMER_CLI_PATH + "'"; }

// Every instruction-set level this CPU can run, for tests of each kernel copy.
inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx})
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

}  // namespace tformer::testing
