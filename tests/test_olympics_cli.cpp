// `tinyopt olympics` and `tinyopt leaderboard` end to end: one real run of the
// MLP Sprint (baseline + all) into a scratch leaderboard with an HTML report,
// then the rankings, the report in headless Chromium (rendered, no text
// overlapping, nothing past the window's edge), and bad input: unknown
// event, malformed recipe, a recipe asking for a missing technique, a corrupt
// database (left untouched), an unwritable report path.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/report_layout.h"
#include "tests/test_io_util.h"

namespace {

struct CliRun {
  int status = -1;
  std::string out, err;
};

CliRun run(const std::string& args, const tinyopt::test::ScratchDir& dir) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd = std::string(TINYOPT_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = tinyopt::test::read_bytes(out);
  r.err = tinyopt::test::read_bytes(err);
  return r;
}

class OlympicsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tinyopt::test::ScratchDir();
    db_ = dir_->file("board.db");
    report_ = dir_->file("report.html");
    const CliRun r = run("olympics --event mlp --team ci --db " + db_ + " --report " + report_ + " --json", *dir_);
    status_ = r.status;
    err_ = r.err;
    if (r.status == 0) json_ = nlohmann::json::parse(r.out);
  }
  static void TearDownTestSuite() { delete dir_; }
  static tinyopt::test::ScratchDir* dir_;
  static std::string db_, report_, err_;
  static int status_;
  static nlohmann::json json_;
};
tinyopt::test::ScratchDir* OlympicsCli::dir_ = nullptr;
std::string OlympicsCli::db_, OlympicsCli::report_, OlympicsCli::err_;
int OlympicsCli::status_ = -1;
nlohmann::json OlympicsCli::json_;

}  // namespace

TEST_F(OlympicsCli, MlpSprintRunsValidatesAndSubmits) {
  ASSERT_EQ(status_, 0) << err_;
  EXPECT_NE(err_.find("[olympics]"), std::string::npos);  // progress on stderr
  ASSERT_EQ(json_["events"].size(), 1u);
  const auto& ev = json_["events"][0];
  EXPECT_EQ(ev["event"], "mlp");
  EXPECT_NEAR(ev["reference_quality"].get<double>(), 0.8887, 0.0005);
  ASSERT_EQ(ev["submissions"].size(), 2u);
  for (const auto& s : ev["submissions"]) {
    EXPECT_TRUE(s["valid"].get<bool>()) << s.dump();
    EXPECT_GE(s["queries"].get<int64_t>(), 64);
    EXPECT_GT(s["latency_p50_s"].get<double>(), 0);
    EXPECT_LE(s["latency_p50_s"].get<double>(), s["latency_p99_s"].get<double>());
    EXPECT_EQ(s["model_sha256"].get<std::string>().size(), 64u);
    EXPECT_FALSE(s["git_commit"].get<std::string>().empty());
  }
  EXPECT_EQ(ev["submissions"][0]["recipe"], "baseline");
  EXPECT_NEAR(ev["submissions"][0]["score"].get<double>(), 100, 1e-6);
  // Both start from the reference file, but `all` measured a pruned INT8 model: the entries say which.
  EXPECT_EQ(ev["submissions"][0]["input_model_sha256"], ev["submissions"][1]["input_model_sha256"]);
  EXPECT_NE(ev["submissions"][0]["model_sha256"], ev["submissions"][1]["model_sha256"]);
  // The best kernels beat the naive ones at batch 1 (a loose bound: the machine may be busy).
  EXPECT_GT(ev["submissions"][1]["speedup_latency"].get<double>(), 1.5);
  EXPECT_GE(ev["ablation"].size(), 2u);
  // What does not apply to an image event is null, never a number standing in for "none".
  EXPECT_TRUE(ev["reference_agreement"].is_null()) << ev["reference_agreement"];
  for (const auto& step : ev["ablation"]) {
    EXPECT_TRUE(step["cumulative_decode_speedup"].is_null()) << step.dump();
    EXPECT_TRUE(step["step_decode_speedup"].is_null()) << step.dump();
  }
  for (const auto& c : ev["contenders"]) EXPECT_TRUE(c["speedup_over_baseline"]["decode"].is_null()) << c.dump();
  // Each entry says whether the machine was quiet; one measured beside a busy process (another
  // test running in parallel, say) is stored but kept off the rankings.
  size_t quiet = 0;
  for (const auto& s : ev["submissions"]) {
    const std::string verdict = s["measurement"]["verdict"];
    EXPECT_TRUE(verdict == "quiet" || verdict == "contended") << s["measurement"].dump();
    quiet += verdict == "quiet";
  }
  EXPECT_EQ(json_["leaderboard"]["mlp"].size(), quiet);
}

TEST_F(OlympicsCli, LeaderboardCommandListsTheSubmissions) {
  ASSERT_EQ(status_, 0) << err_;
  tinyopt::test::ScratchDir dir;
  const CliRun r = run("leaderboard --db " + db_ + " --event mlp --include-contended --json", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["events"]["mlp"].size(), 2u);
  EXPECT_EQ(j["events"]["mlp"][0]["team"], "ci");
  const CliRun text = run("leaderboard --db " + db_ + " --include-contended", dir);
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("MLP Sprint"), std::string::npos);
  EXPECT_NE(text.out.find("test accuracy on 10,000 held-out images, higher is better"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("baseline"), std::string::npos);
}

TEST_F(OlympicsCli, ReportIsSelfContainedAndRendersInHeadlessChromium) {
  ASSERT_EQ(status_, 0) << err_;
  const std::string html = tinyopt::test::read_bytes(report_);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // the only URL is the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const std::string browser = tinyopt::test::chromium_path();
  if (browser.empty()) GTEST_SKIP() << "chromium not installed (scripts/install_deps.sh --tests installs it)";
  tinyopt::test::ScratchDir dir;
  const std::string dom = dir.file("dom.html"), png = dir.file("shot.png");
  const std::string chrome = tinyopt::test::chromium_command(browser, dir);
  ASSERT_EQ(std::system((chrome + "--dump-dom file://" + report_ + " >" + dom + " 2>/dev/null").c_str()), 0);
  const std::string rendered = tinyopt::test::read_bytes(dom);
  EXPECT_NE(rendered.find("TinyMLPerf Olympics"), std::string::npos);
  EXPECT_NE(rendered.find("<svg"), std::string::npos);
  EXPECT_NE(rendered.find("<rect"), std::string::npos);    // bars were drawn
  EXPECT_NE(rendered.find("<circle"), std::string::npos);  // the quality-vs-size points
  ASSERT_EQ(std::system((chrome + "--window-size=1200,2400 --screenshot=" + png + " file://" + report_ +
                         " >/dev/null 2>&1").c_str()),
            0);
  const std::string shot = tinyopt::test::read_bytes(png);
  ASSERT_GT(shot.size(), 10000u);
  EXPECT_EQ(shot.substr(1, 3), "PNG");
  // A real run's page: no text overlaps and nothing sticks out, wide window or narrow.
  for (int width : {1280, 900}) {
    const tinyopt::test::LayoutCheck c = tinyopt::test::check_report_layout(browser, report_, width);
    ASSERT_EQ(c.error, "");
    EXPECT_TRUE(c.problems.empty()) << c.problems.size() << " layout problem(s)"
                                    << tinyopt::test::join_lines(c.problems);
  }
}

TEST(OlympicsCliErrors, BadInputIsAClearErrorAndTouchesNothing) {
  tinyopt::test::ScratchDir dir;
  // A process-wide kernel choice would be overridden by every recipe: refused, not ignored.
  CliRun forced = run("--backend cpu.naive olympics --event mlp --no-submit", dir);
  EXPECT_EQ(forced.status, 2) << forced.err;
  EXPECT_NE(forced.err.find("does not apply to `olympics`"), std::string::npos) << forced.err;

  CliRun r = run("olympics --event resnet --no-submit", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown event 'resnet'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mlp"), std::string::npos) << r.err;

  tinyopt::test::write_bytes(dir.file("bad.json"), R"({"backend": "auto", "quantise": true})");
  r = run("olympics --event mlp --no-submit --recipe " + dir.file("bad.json"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown key 'quantise'"), std::string::npos) << r.err;

  tinyopt::test::write_bytes(dir.file("trunc.json"), R"({"backend": )");
  r = run("olympics --event mlp --no-submit --recipe " + dir.file("trunc.json"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;

  const std::string garbage(2048, 'z');
  tinyopt::test::write_bytes(dir.file("corrupt.db"), garbage);
  r = run("olympics --event mlp --db " + dir.file("corrupt.db"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("not a valid SQLite database"), std::string::npos) << r.err;
  EXPECT_EQ(tinyopt::test::read_bytes(dir.file("corrupt.db")), garbage);
  r = run("leaderboard --db " + dir.file("corrupt.db"), dir);
  EXPECT_NE(r.status, 0);

  r = run("leaderboard --db " + dir.file("absent.db"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;

  r = run("olympics --event mlp --no-submit --report " + dir.file("no/such/dir/r.html"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}
