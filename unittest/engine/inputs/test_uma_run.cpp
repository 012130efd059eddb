// The uma-run command line: every bad argument or structure field ends in one "uma-run: ERROR:" line
// naming the option or the file and field, with exit status 1 (never a crash, never a silent default).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "test_support.h"

namespace {

struct Outcome {
  int status = -1;  // exit status, or 128 + signal
  std::string output;  // stdout and stderr
};

Outcome uma_run(const std::string& args) {
  const std::string cmd = std::string(UMA_RUN) + " " + args + " 2>&1";
  Outcome r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int w = ::pclose(p);
  r.status = WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
  return r;
}

const std::string& model() {
  static const std::string m = uma_test::uma_1p2p1().model;
  return m;
}

// A copy of the omat Cu fixture's structure with `edit` applied to its JSON.
template <typename Edit>
std::string structure(const std::string& tag, Edit edit) {
  std::ifstream in(uma_test::fixture_path("omat_cu_triclinic", "fixtures-1p2p1"));
  nlohmann::json j;
  in >> j;
  for (const char* k : {"reference", "graph", "generator", "name"}) j.erase(k);
  edit(j);
  const std::string p = testing::TempDir() + "/uma_run_" + tag + ".json";
  std::ofstream(p) << j.dump();
  return p;
}

std::string good() {
  return structure("good", [](nlohmann::json&) {});
}

// Expects exit status 1 and one error line containing `needle`, without a backtrace.
void expect_refused(const std::string& args, const std::string& needle) {
  const Outcome r = uma_run(args);
  EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find("uma-run: ERROR: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << r.output;
  EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << "a torch backtrace:\n" << r.output;
  EXPECT_EQ(r.output.find("frame #"), std::string::npos) << "a torch backtrace:\n" << r.output;
}

}  // namespace

TEST(UmaRun, GoodStructurePrintsJson) {
  const Outcome r = uma_run(model() + " " + good() + " --precision fp64");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["natoms"], 12);
  EXPECT_TRUE(std::isfinite(j["energy"].get<double>()));
}

TEST(UmaRun, MalformedPositionsNameTheField) {
  // Before: [] segfaulted, two components gave "type must be number, but is number", a fourth was ignored.
  expect_refused(model() + " " + structure("empty_pos", [](nlohmann::json& j) { j["positions"][3] = nlohmann::json::array(); }),
                 "'positions[3]' has 0 entries, expected 3");
  expect_refused(model() + " " + structure("two_pos", [](nlohmann::json& j) { j["positions"][4] = {1.0, 2.0}; }),
                 "'positions[4]' has 2 entries, expected 3");
  expect_refused(model() + " " + structure("four_pos", [](nlohmann::json& j) { j["positions"][0] = {1.0, 2.0, 3.0, 4.0}; }),
                 "'positions[0]' has 4 entries, expected 3");
  expect_refused(model() + " " + structure("text_pos", [](nlohmann::json& j) { j["positions"][1][2] = "x"; }),
                 "'positions[1][2]' must be a number");
  expect_refused(model() + " " + structure("few_pos", [](nlohmann::json& j) { j["positions"].erase(0); }),
                 "'positions' has 11 entries, expected 12");
}

TEST(UmaRun, MalformedNumbersCellAndPbcNameTheField) {
  expect_refused(model() + " " + structure("num", [](nlohmann::json& j) { j["numbers"][2] = 29.5; }),
                 "'numbers[2]' must be an integer");
  expect_refused(model() + " " + structure("cell", [](nlohmann::json& j) { j["cell"][1] = {1.0, 2.0}; }),
                 "'cell[1]' has 2 entries, expected 3");
  expect_refused(model() + " " + structure("cell2", [](nlohmann::json& j) { j["cell"] = {1.0, 2.0, 3.0}; }),
                 "'cell[0]' must be an array");
  expect_refused(model() + " " + structure("pbc", [](nlohmann::json& j) { j["pbc"] = {true, true}; }),
                 "'pbc' has 2 entries, expected 3");
  expect_refused(model() + " " + structure("pbc2", [](nlohmann::json& j) { j["pbc"][0] = 1; }),
                 "'pbc[0]' must be true or false");
  expect_refused(model() + " " + structure("nocell", [](nlohmann::json& j) { j.erase("cell"); }), "'cell' is missing");
}

TEST(UmaRun, MissingPbcIsAnError) {
  // Before: treated as a molecule without a word (a crystal silently lost its periodic images).
  expect_refused(model() + " " + structure("nopbc", [](nlohmann::json& j) { j.erase("pbc"); }),
                 "'pbc' is missing (periodicity per cell vector");
}

TEST(UmaRun, NonIntegerChargeOrSpinIsRefused) {
  // Before: a spin of 2.5 became 2; --charge abc printed "stoi".
  expect_refused(model() + " " + structure("spin", [](nlohmann::json& j) { j["spin"] = 2.5; }),
                 "'spin' must be an integer (the spin multiplicity 2S+1), found 2.5");
  expect_refused(model() + " " + structure("charge", [](nlohmann::json& j) { j["charge"] = "1"; }),
                 "'charge' must be an integer");
  expect_refused(model() + " " + good() + " --spin 2.5", "--spin expects an integer (the spin multiplicity 2S+1), got '2.5'");
  expect_refused(model() + " " + good() + " --charge abc", "--charge expects an integer (the total charge in e), got 'abc'");
  expect_refused(model() + " " + good() + " --charge 99999999999999", "--charge 99999999999999 is out of range");
}

TEST(UmaRun, RepeatAndThreadsAreBounded) {
  // Before: --repeat 0 printed 0 atoms and energy 0 with exit 0; --threads 10000 segfaulted.
  expect_refused(model() + " " + good() + " --repeat 0", "--repeat 0 is out of range");
  expect_refused(model() + " " + good() + " --threads 10000", "--threads 10000 is out of range: CPU threads, at most the");
  expect_refused(model() + " " + good() + " --threads 0", "--threads 0 is out of range");
}

TEST(UmaRun, UnknownDeviceGivesOneLineWithoutBacktrace) {
  // Before: torch's "Expected one of cpu, cuda, ..." with a C++ backtrace.
  expect_refused(model() + " " + good() + " --device gpu", "--device must be cpu, cuda or cuda:N");
}

TEST(UmaRun, TinyCellIsRefusedBeforeAllocating) {
  // Before: std::bad_alloc.
  expect_refused(model() + " " + structure("tiny", [](nlohmann::json& j) {
                   j["cell"] = {{1e-3, 0, 0}, {0, 1e-3, 0}, {0, 0, 1e-3}};
                 }),
                 "far too small for the model's cutoff of 6 Å");
}

TEST(UmaRun, EmptyStructureIsRefused) {
  expect_refused(model() + " " + structure("empty", [](nlohmann::json& j) {
                   j["numbers"] = nlohmann::json::array();
                   j["positions"] = nlohmann::json::array();
                 }),
                 "has no atoms");
}

TEST(UmaRun, AtomOutsideTheCellGivesTheSameEnergy) {
  // Before: -26.0974 eV / 920 edges instead of -26.1816 / 932 for an atom one lattice vector outside.
  const auto shifted = structure("shifted", [](nlohmann::json& j) {
    for (int k = 0; k < 3; ++k) j["positions"][0][k] = j["positions"][0][k].get<double>() + j["cell"][0][k].get<double>();
  });
  const Outcome a = uma_run(model() + " " + good() + " --precision fp64"), b = uma_run(model() + " " + shifted + " --precision fp64");
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(b.status, 0) << b.output;
  auto ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
  EXPECT_EQ(jb["nedges"], ja["nedges"]);
  EXPECT_NEAR(jb["energy"].get<double>(), ja["energy"].get<double>(), 1e-9);
}
