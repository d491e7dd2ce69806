// Every instruction-set level this CPU supports, for the code that picks its
// level once at start-up (TFORMER_ISA or the CPU): the models, training
// (AdamW, clipping, the backward kernels), the attention and the allocation
// counts run again in a child process per level. (The GEMM and element-wise
// kernel tests take the level as an argument and cover each in-process.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

using namespace tformer;
using namespace tformer::testing;

TEST(IsaPaths, ModelsTrainingAndAllocationsPassOnEveryLevel) {
  if (std::getenv("TFORMER_ISA")) GTEST_SKIP() << "a child run for one level";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string suites =
      "Allocations.Repeated*:Bert.*:Fixtures/BertFixture.*:BertTraining.*:AdamW*:Clip.*:Kernels.*:Backward*:"
      "SeedAttention.*:Trainer.*";
  for (Isa isa : supported_isas()) {
    if (isa == active_isa()) continue;  // the parent's own run
    const std::string name(isa_name(isa));
    auto r = run_command("TFORMER_ISA=" + name + " '" + self + "' --gtest_filter='" + suites + "' 2>&1");
    EXPECT_EQ(r.exit_code, 0) << "TFORMER_ISA=" << name << ":\n" << r.output;
    EXPECT_NE(r.output.find("[  PASSED  ]"), std::string::npos) << "TFORMER_ISA=" << name << ":\n" << r.output;
    EXPECT_EQ(r.output.find("[  FAILED  ]"), std::string::npos) << "TFORMER_ISA=" << name << ":\n" << r.output;
  }
}
