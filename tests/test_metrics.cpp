// metrics.jsonl (append, read back, survive a killed run), progress lines, gap.png.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "core/fs.h"
#include "core/report/metrics.h"
#include "core/report/plot.h"
#include "core/report/progress.h"

namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() /
           ("mg_test_metrics_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  stdfs::path dir_;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_F(MetricsTest, WritesOneObjectPerLineWithTime) {
  auto p = dir_ / "metrics.jsonl";
  mg::MetricsLog log(p, true);
  log.write({{"kind", "eval"}, {"step", 100}, {"greedy", 0.5}});
  log.write({{"kind", "round"}, {"round", 1}, {"time", 12.5}});
  std::string text = mg::fs::read_file(p);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  auto recs = mg::read_metrics(p);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["kind"], "eval");
  EXPECT_EQ(recs[0]["step"], 100);
  EXPECT_NEAR(recs[0]["time"].get<double>(), now_s(), 60.0);
  EXPECT_EQ(recs[1]["time"], 12.5);  // kept when given
  EXPECT_THROW(log.write(json::array({1, 2})), mg::Error);
}

TEST_F(MetricsTest, NonWriterRanksWriteNothing) {
  auto p = dir_ / "metrics.jsonl";
  mg::MetricsLog log(p, false);
  log.write({{"kind", "eval"}});
  EXPECT_FALSE(stdfs::exists(p));
}

TEST_F(MetricsTest, TruncatedLastLineIsSkippedAndAResumedRunAppendsCleanly) {
  auto p = dir_ / "metrics.jsonl";
  {
    mg::MetricsLog log(p, true);
    log.write({{"kind", "round"}, {"round", 1}});
    log.write({{"kind", "round"}, {"round", 2}});
  }
  {
    std::ofstream out(p, std::ios::app);
    out << R"({"kind":"round","round":3,"J_)";  // killed mid-line
  }
  auto recs = mg::read_metrics(p);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1]["round"], 2);

  mg::MetricsLog resumed(p, true);  // terminates the cut line
  resumed.write({{"kind", "round"}, {"round", 3}});
  recs = mg::read_metrics(p);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2]["round"], 3);
  EXPECT_THROW(mg::read_metrics(dir_ / "absent.jsonl"), mg::Error);
}

TEST(Progress, FormatsDurationsAndLines) {
  EXPECT_EQ(mg::format_duration(0), "0s");
  EXPECT_EQ(mg::format_duration(59.4), "59s");
  EXPECT_EQ(mg::format_duration(62), "1m02s");
  EXPECT_EQ(mg::format_duration(3725), "1h02m05s");
  EXPECT_EQ(mg::format_duration(-1), "?");
  EXPECT_EQ(mg::progress_line("pretrain", 400, 2000, 31.24, "steps", 51.2, "loss 1.234"),
            "pretrain  400/2000  20.0%  31.2 steps/s  eta 51s  loss 1.234");
  EXPECT_EQ(mg::progress_line("generate", 5, 0, 1234.4, "tokens", -1, ""), "generate  5  1234 tokens/s");
  EXPECT_EQ(mg::progress_line("x", 1, 3, 0.5, "steps", 4, ""), "x  1/3  33.3%  0.50 steps/s  eta 4s");
}

TEST(Progress, PrintsAtMostEveryIntervalAndOnceAtTheEnd) {
  mg::Progress quiet("distill", 100, "steps", 3600.0);
  for (int i = 1; i <= 100; ++i) quiet.update(i, "loss 0.1");
  EXPECT_EQ(quiet.lines_printed(), 0);
  ::testing::internal::CaptureStderr();
  quiet.finish("kept 50%");
  quiet.finish();  // once only
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(quiet.lines_printed(), 1);
  EXPECT_NE(out.find("distill  100/100  100.0%"), std::string::npos) << out;
  EXPECT_NE(out.find("done in"), std::string::npos) << out;
  EXPECT_NE(out.find("kept 50%"), std::string::npos) << out;
  EXPECT_GE(quiet.elapsed_s(), 0.0);

  mg::Progress every("verify", 10, "samples", 0.0);
  ::testing::internal::CaptureStderr();
  for (int i = 1; i <= 3; ++i) every.update(i);
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(every.lines_printed(), 3);
  EXPECT_NE(out.find("verify  3/10  30.0%"), std::string::npos) << out;

  mg::Progress off("off", 10, "steps", 0.0, false);
  off.update(5);
  off.finish();
  EXPECT_EQ(off.lines_printed(), 0);
}

namespace {
void write_run(const stdfs::path& run, const std::string& arm, double start) {
  stdfs::create_directories(run);
  mg::MetricsLog log(run / "metrics.jsonl", true);
  log.write({{"kind", "eval"}, {"step", 500}, {"greedy", start}});
  for (int r = 1; r <= 3; ++r)
    log.write({{"kind", "round"}, {"round", r}, {"arm", arm}, {"J_f", start + 0.02 * r},
               {"J_filtered", start + 0.05 * r}, {"gap", 0.03 * r}, {"relative_gap", 0.1 * r},
               {"greedy", {{"2", start + 0.04 * r}, {"3", start}}}});
}
bool python_has_matplotlib() {
  std::string cmd = "'" + mg::plot_python() + "' -c 'import matplotlib' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}
}  // namespace

TEST_F(MetricsTest, PlotGapWritesAPng) {
  if (!python_has_matplotlib()) {
    std::printf("skipping: %s has no matplotlib\n", mg::plot_python().c_str());
    GTEST_SKIP() << "no matplotlib for " << mg::plot_python();
  }
  write_run(dir_ / "mc", "mc", 0.6);
  write_run(dir_ / "none", "none", 0.55);
  auto png = dir_ / "out" / "gap.png";
  mg::plot_gap({dir_ / "mc", dir_ / "none"}, png);
  ASSERT_TRUE(stdfs::exists(png));
  std::string bytes = mg::fs::read_file(png);
  EXPECT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

// A study (several seeds per arm) is drawn per arm, mean and band; the runs may have
// different numbers of rounds.
TEST_F(MetricsTest, PlotGapOfAStudyGroupsRunsByArm) {
  if (!python_has_matplotlib()) {
    std::printf("skipping: %s has no matplotlib\n", mg::plot_python().c_str());
    GTEST_SKIP() << "no matplotlib for " << mg::plot_python();
  }
  std::vector<stdfs::path> runs;
  for (int seed = 1; seed <= 3; ++seed)
    for (const char* arm : {"mc", "none"}) {
      runs.push_back(dir_ / (std::string(arm) + std::to_string(seed)));
      write_run(runs.back(), arm, 0.5 + 0.05 * seed);
    }
  auto png = dir_ / "study.png";
  mg::plot_gap(runs, png);
  ASSERT_TRUE(stdfs::exists(png));
  EXPECT_EQ(mg::fs::read_file(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(MetricsTest, PlotGapFailureIsAWarningNotAnError) {
  stdfs::create_directories(dir_ / "empty_run");
  std::ofstream(dir_ / "empty_run" / "metrics.jsonl") << R"({"kind":"eval","step":1})" << "\n";
  auto png = dir_ / "gap.png";
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(mg::plot_gap({dir_ / "empty_run"}, png));
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(stdfs::exists(png));
  EXPECT_NE(out.find("gap plot not drawn"), std::string::npos) << out;

  ::setenv("MINDGAP_PYTHON", (dir_ / "no-such-python").c_str(), 1);
  EXPECT_NO_THROW(mg::plot_gap({dir_ / "empty_run"}, png));
  ::unsetenv("MINDGAP_PYTHON");
  EXPECT_FALSE(stdfs::exists(png));
}
