// Manifests and round checkpoints: checksums catch damage, a commit is all or nothing, a
// corrupt newest round falls back to an older one, optimizer state resumes exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/run/manifest.h"
#include "core/numerics.h"
#include "core/run/run_dir.h"

namespace stdfs = std::filesystem;

namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() /
           ("mg_test_checkpoint_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
    run_.root = dir_ / "run";
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  // A committed round with one weights file whose content names the round.
  void commit_round(int r) {
    mg::RoundWriter w(run_, r);
    write(w.dir() / "model.safetensors", "weights of round " + std::to_string(r));
    write(w.dir() / "state.json", "{}");
    w.commit();
  }
  static void write(const stdfs::path& p, const std::string& s) {
    stdfs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
  }
  static void flip_byte(const stdfs::path& p, size_t at) {
    std::string s = mg::fs::read_file(p);
    s[at] ^= 0x01;
    write(p, s);
  }
  stdfs::path dir_;
  mg::RunDir run_;
};

}  // namespace

TEST_F(CheckpointTest, Sha256MatchesKnownDigests) {
  write(dir_ / "abc", "abc");
  write(dir_ / "empty", "");
  EXPECT_EQ(mg::sha256_file(dir_ / "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(mg::sha256_file(dir_ / "empty"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // Larger than the 1 MiB read buffer: 2 MiB + 3 bytes of 'a'.
  write(dir_ / "big", std::string((2 << 20) + 3, 'a'));
  std::string again = mg::sha256_file(dir_ / "big");
  EXPECT_EQ(again.size(), 64u);
  flip_byte(dir_ / "big", (2 << 20) + 1);
  EXPECT_NE(mg::sha256_file(dir_ / "big"), again);
  EXPECT_THROW(mg::sha256_file(dir_ / "nope"), mg::Error);
}

TEST_F(CheckpointTest, ManifestDetectsAFlippedByteAndAMissingFile) {
  auto d = dir_ / "round";
  write(d / "b.bin", std::string(1000, 'x'));
  write(d / "a.txt", "hello");
  write(d / "sub/c.json", "{}");
  mg::write_manifest(d);
  EXPECT_EQ(mg::fs::read_file(d / "MANIFEST"),
            mg::sha256_file(d / "a.txt") + "  a.txt\n" + mg::sha256_file(d / "b.bin") + "  b.bin\n" +
                mg::sha256_file(d / "sub/c.json") + "  sub/c.json\n");
  std::string problem;
  EXPECT_TRUE(mg::verify_manifest(d, &problem)) << problem;

  flip_byte(d / "b.bin", 500);
  EXPECT_FALSE(mg::verify_manifest(d, &problem));
  EXPECT_NE(problem.find("b.bin"), std::string::npos) << problem;
  EXPECT_NE(problem.find("checksum"), std::string::npos) << problem;
  flip_byte(d / "b.bin", 500);
  EXPECT_TRUE(mg::verify_manifest(d, nullptr));

  stdfs::remove(d / "sub/c.json");
  EXPECT_FALSE(mg::verify_manifest(d, &problem));
  EXPECT_NE(problem.find("sub/c.json"), std::string::npos) << problem;
  EXPECT_NE(problem.find("missing"), std::string::npos) << problem;

  write(d / "sub/c.json", "{}");
  std::string m = mg::fs::read_file(d / "MANIFEST");
  write(d / "MANIFEST", m.substr(0, m.size() - 10));
  EXPECT_FALSE(mg::verify_manifest(d, &problem));
  EXPECT_NE(problem.find("MANIFEST"), std::string::npos) << problem;
  stdfs::remove(d / "MANIFEST");
  EXPECT_FALSE(mg::verify_manifest(d, &problem));
  EXPECT_NE(problem.find("MANIFEST is missing"), std::string::npos) << problem;
}

// verify_manifest with `only`: just the named files are checked, and each must be listed.
TEST_F(CheckpointTest, ManifestChecksOnlyTheNamedFiles) {
  auto d = dir_ / "round";
  write(d / "a.txt", "hello");
  write(d / "b.bin", std::string(1000, 'x'));
  mg::write_manifest(d);
  write(d / "late.txt", "written after the MANIFEST");
  flip_byte(d / "b.bin", 500);
  std::string problem;
  EXPECT_TRUE(mg::verify_manifest(d, &problem, {"a.txt"})) << problem;  // b.bin is not looked at
  EXPECT_FALSE(mg::verify_manifest(d, &problem, {"a.txt", "b.bin"}));
  EXPECT_NE(problem.find("b.bin: checksum"), std::string::npos) << problem;
  EXPECT_FALSE(mg::verify_manifest(d, &problem, {"a.txt", "late.txt"}));
  EXPECT_NE(problem.find("late.txt: not listed"), std::string::npos) << problem;
  stdfs::remove(d / "a.txt");
  EXPECT_FALSE(mg::verify_manifest(d, &problem, {"a.txt"}));
  EXPECT_NE(problem.find("a.txt: listed in MANIFEST but missing"), std::string::npos) << problem;
}

TEST_F(CheckpointTest, CommitRenamesTheRoundAndPointsLatestAtIt) {
  mg::RoundWriter w(run_, 0);
  EXPECT_EQ(w.dir(), run_.round_tmp(0));
  EXPECT_TRUE(stdfs::is_directory(w.dir()));
  EXPECT_FALSE(w.has("model.safetensors"));
  write(w.dir() / "model.safetensors", "weights");
  write(w.dir() / "state.json", "{}");
  write(w.dir() / "optimizer.pt.tmp4242", "half written by a killed process");
  EXPECT_TRUE(w.has("model.safetensors"));
  EXPECT_EQ(mg::read_latest(run_), -1);
  w.commit();

  EXPECT_FALSE(stdfs::exists(run_.round_tmp(0)));
  EXPECT_TRUE(stdfs::is_directory(run_.round(0)));
  EXPECT_EQ(mg::fs::read_file(run_.latest()), "round-0000\n");
  EXPECT_EQ(mg::read_latest(run_), 0);
  EXPECT_FALSE(stdfs::exists(run_.round(0) / "optimizer.pt.tmp4242"));
  EXPECT_EQ(mg::fs::read_file(run_.round(0) / "MANIFEST").find("tmp4242"), std::string::npos);
  EXPECT_TRUE(mg::verify_manifest(run_.round(0), nullptr));
  EXPECT_EQ(mg::latest_good_round(run_), 0);
  EXPECT_THROW(w.commit(), mg::Error);

  commit_round(1);
  EXPECT_EQ(mg::fs::read_file(run_.latest()), "round-0001\n");
  EXPECT_EQ(mg::latest_good_round(run_), 1);
}

TEST_F(CheckpointTest, LatestGoodRoundFallsBackPastCorruptRounds) {
  EXPECT_EQ(mg::latest_good_round(run_), -1);  // no run directory yet
  commit_round(0);
  commit_round(1);
  commit_round(2);
  flip_byte(run_.round(2) / "model.safetensors", 3);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(mg::latest_good_round(run_), 1);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("round-0002"), std::string::npos) << log;
  EXPECT_NE(log.find("model.safetensors: checksum mismatch"), std::string::npos) << log;

  stdfs::remove(run_.round(1) / "MANIFEST");
  EXPECT_EQ(mg::latest_good_round(run_), 0);
  stdfs::remove(run_.round(0) / "state.json");
  EXPECT_EQ(mg::latest_good_round(run_), -1);

  // Redoing a corrupt round replaces its directory.
  commit_round(2);
  EXPECT_EQ(mg::latest_good_round(run_), 2);
}

TEST_F(CheckpointTest, CrashBeforeCommitLeavesLatestUnchangedAndResumes) {
  commit_round(0);
  {
    mg::RoundWriter w(run_, 1);
    write(w.dir() / "samples.jsonl", "{}\n");
  }  // killed before commit
  EXPECT_EQ(mg::fs::read_file(run_.latest()), "round-0000\n");
  EXPECT_FALSE(stdfs::exists(run_.round(1)));
  EXPECT_TRUE(stdfs::exists(run_.round_tmp(1)));
  EXPECT_EQ(mg::latest_good_round(run_), 0);

  mg::RoundWriter again(run_, 1);  // the resume finds the finished stage
  EXPECT_TRUE(again.has("samples.jsonl"));
  EXPECT_FALSE(again.has("model.safetensors"));
  write(again.dir() / "model.safetensors", "weights");
  write(again.dir() / "state.json", "{}");
  again.commit();
  EXPECT_EQ(mg::latest_good_round(run_), 1);
  EXPECT_TRUE(stdfs::exists(run_.round(1) / "samples.jsonl"));
}

TEST_F(CheckpointTest, RoundsNewerThanLatestAreNotTrustedAndNoLatestScansAll) {
  commit_round(0);
  commit_round(1);
  // A commit cut short between the rename and LATEST: round 2 is there, LATEST says 1.
  commit_round(2);
  mg::fs::write_file_atomic(run_.latest(), "round-0001\n");
  EXPECT_EQ(mg::latest_good_round(run_), 1);
  stdfs::remove(run_.latest());
  EXPECT_EQ(mg::latest_good_round(run_), 2);
  write(run_.latest(), "garbage");
  EXPECT_EQ(mg::read_latest(run_), -1);
  EXPECT_EQ(mg::latest_good_round(run_), 2);
  // LATEST naming a directory that is gone: fall back.
  mg::fs::write_file_atomic(run_.latest(), "round-0007\n");
  EXPECT_EQ(mg::latest_good_round(run_), 2);
}

namespace {
// One Adam step on a fixed quadratic loss.
void adam_step(torch::nn::Linear& m, torch::optim::Adam& opt) {
  opt.zero_grad();
  auto x = torch::arange(12, torch::kFloat32).reshape({4, 3}) / 10;
  m->forward(x).pow(2).sum().backward();
  opt.step();
}
}  // namespace

TEST_F(CheckpointTest, OptimizerStateResumesExactly) {
  torch::manual_seed(0);
  torch::nn::Linear a(3, 2);
  torch::optim::Adam opt_a(a->parameters(), torch::optim::AdamOptions(0.1));
  adam_step(a, opt_a);
  adam_step(a, opt_a);
  auto p = dir_ / "optimizer.pt";
  mg::save_optimizer(p, opt_a);

  torch::nn::Linear b(3, 2);
  {
    torch::NoGradGuard g;
    b->weight.copy_(a->weight);
    b->bias.copy_(a->bias);
  }
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(0.1));
  mg::load_optimizer(p, opt_b);
  adam_step(a, opt_a);
  adam_step(b, opt_b);
  EXPECT_TRUE(torch::allclose(a->weight, b->weight, 0, 0));

  // The same continuation from a fresh optimizer differs (bias correction, moments): the check
  // above can fail.
  torch::nn::Linear c(3, 2);
  {
    torch::NoGradGuard g;
    c->weight.copy_(b->weight);
    c->bias.copy_(b->bias);
  }
  torch::optim::Adam fresh(c->parameters(), torch::optim::AdamOptions(0.1));
  adam_step(b, opt_b);
  adam_step(c, fresh);
  EXPECT_FALSE(torch::allclose(b->weight, c->weight));
}

TEST_F(CheckpointTest, CorruptOrMissingOptimizerStateIsBadInput) {
  torch::nn::Linear a(3, 2);
  torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(0.1));
  adam_step(a, opt);
  auto p = dir_ / "optimizer.pt";
  mg::save_optimizer(p, opt);
  std::string bytes = mg::fs::read_file(p);
  write(p, bytes.substr(0, bytes.size() / 2));
  try {
    mg::load_optimizer(p, opt);
    ADD_FAILURE() << "truncated optimizer state accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("optimizer.pt"), std::string::npos) << e.what();
  }
  write(p, "not a zip archive at all");
  EXPECT_THROW(mg::load_optimizer(p, opt), mg::Error);
  EXPECT_THROW(mg::load_optimizer(dir_ / "absent.pt", opt), mg::Error);
}

TEST_F(CheckpointTest, StateJsonRoundTripsAndRejectsGarbage) {
  nlohmann::json s{{"step", 300}, {"stages", {"generate", "verify"}}, {"seed", 7}};
  auto p = dir_ / "state.json";
  mg::save_state(p, s);
  EXPECT_EQ(mg::load_state(p), s);
  write(p, "{\"step\": 3");
  EXPECT_THROW(mg::load_state(p), mg::Error);
  EXPECT_THROW(mg::load_state(dir_ / "absent.json"), mg::Error);
}

TEST_F(CheckpointTest, NumericsChangeNamesWhatDiffers) {
  nlohmann::json here = mg::numerics_here(torch::Device(torch::kCPU), 2);
  EXPECT_EQ(here["device"], "cpu");
  EXPECT_EQ(here["threads"], 2);
  EXPECT_FALSE(here["cpu_capability"].get<std::string>().empty());
  EXPECT_FALSE(mg::numerics_change(here, here).has_value());
  EXPECT_FALSE(mg::numerics_change(nlohmann::json::object(), here).has_value()) << "older rounds record none";
  nlohmann::json there = here;
  // A capability other than this machine's, whichever it has.
  const std::string other = here["cpu_capability"] == "AVX2" ? "AVX512" : "AVX2";
  there["cpu_capability"] = other;
  there["threads"] = 1;
  auto change = mg::numerics_change(there, here);
  ASSERT_TRUE(change.has_value());
  EXPECT_NE(change->find("cpu_capability \"" + other + "\" there"), std::string::npos) << *change;
  EXPECT_NE(change->find("threads 1 there, 2 here"), std::string::npos) << *change;
  EXPECT_EQ(change->find("device"), std::string::npos) << *change;
}

// A run directory of format 1 (the equivalent check's answers in check_answers.jsonl, sample -1)
// is refused, naming the file and the format, in a committed round or one being written; a
// directory of the current format passes.
TEST_F(CheckpointTest, RoundsOfRunDirectoryFormat1AreRefused) {
  commit_round(1);
  EXPECT_NO_THROW(mg::refuse_old_round_format(run_));
  for (const auto& round : {run_.round(1), run_.round_tmp(2)}) {
    const auto old = round / "check_answers.jsonl";
    write(old, "{\"answer\":\"12\",\"correct\":true,\"prompt\":0,\"sample\":-1,\"score\":0.5}\n");
    try {
      mg::refuse_old_round_format(run_);
      ADD_FAILURE() << "format 1 accepted: " << old;
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
      const std::string what = e.what();
      EXPECT_NE(what.find(old.string()), std::string::npos) << what;
      EXPECT_NE(what.find("run-directory format 1"), std::string::npos) << what;
    }
    stdfs::remove(old);
  }
  EXPECT_NO_THROW(mg::refuse_old_round_format(run_));
}
