#include "trainers/testtime.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "core/errors.h"
#include "core/log.h"
#include "trainers/gap_pipeline.h"
#include "trainers/stages/evaluate_held_out.h"

namespace mg {
namespace {

std::vector<ScoredSample> first_n(const std::vector<ScoredSample>& samples, int n) {
  std::vector<ScoredSample> out;
  for (const auto& s : samples)
    if (s.sample < n) out.push_back(s);
  return out;
}

nlohmann::json row(const std::string& method, int n, double accuracy, const TestTimeRequest& req) {
  return {{"method", method}, {"n", n}, {"accuracy", accuracy}, {"prompts", req.prompts}, {"round", req.round}};
}

}  // namespace

std::vector<nlohmann::json> test_time_curve(RunContext& ctx, Gpt& model, const TestTimeRequest& req) {
  if (ctx.comm->world_size() > 1)
    fail_input("mindgap testtime runs as one process: launch it without mpirun, torchrun or srun");
  check(!req.best_of.empty() && req.prompts >= 1, "test_time_curve: nothing to measure");
  const int n_max = req.best_of.back();
  Round held_out;
  held_out.index = req.round + 1;
  held_out.difficulty = base_difficulty(ctx.recipe.task);
  held_out.problems = eval_problems(*ctx.task, ctx.recipe.run.seed, held_out.difficulty, req.prompts);
  held_out.prompts = prompt_texts(held_out.problems);
  ctx.recipe.improve.samples_per_prompt = n_max;  // sampled once, the largest N
  model->eval();
  RoundStore store = RoundStore::in_memory(ctx);
  const std::vector<ScoredSample> samples = store.run(Generate{ctx, model, held_out});
  log::info("testtime: " + std::to_string(req.prompts) + " held-out prompts x " + std::to_string(n_max) + " samples");

  std::vector<nlohmann::json> rows;
  for (const auto& method : req.methods) {
    GapArm arm = study_arm(ctx.recipe, method);
    arm.filter = FilterConfig{};
    arm.filter.method = name_of(FilterMethod::BestOfN);  // one pick per prompt; ties: the smaller sample index
    arm.filter.dedup = false;
    arm.pass_k = 1;
    for (int n : req.best_of) {
      ctx.recipe.improve.samples_per_prompt = n;  // what the verifiers that sample (equivalent) draw
      // The accuracy of the picks, one per prompt: J(f[w]) of the best-of-n filter.
      const double accuracy = measure_gap_of(store, ctx, model, held_out, first_n(samples, n), arm).gap.J_filtered;
      rows.push_back(row(method, n, accuracy, req));
      log::info("testtime " + method + " best of " + std::to_string(n) + ": " + std::to_string(accuracy));
    }
  }
  for (int n : req.best_of) {
    std::map<int, bool> any;
    double correct = 0;
    for (const auto& s : first_n(samples, n)) {
      correct += s.correct ? 1 : 0;
      any[s.prompt] = any[s.prompt] || s.correct;
    }
    rows.push_back(row(name_of(FilterMethod::None), n, correct / (static_cast<double>(req.prompts) * n), req));
    double pass = 0;
    for (const auto& [p, hit] : any) pass += hit ? 1 : 0;
    rows.push_back(row(name_of(FilterMethod::Oracle), n, pass / req.prompts, req));
  }
  // By method (request order, then none, oracle), then N.
  std::vector<std::string> order = req.methods;
  order.push_back(name_of(FilterMethod::None));
  order.push_back(name_of(FilterMethod::Oracle));
  std::stable_sort(rows.begin(), rows.end(), [&order](const nlohmann::json& a, const nlohmann::json& b) {
    return std::find(order.begin(), order.end(), a.at("method")) < std::find(order.begin(), order.end(), b.at("method"));
  });
  return rows;
}

std::string format_test_time_table(const std::vector<nlohmann::json>& rows) {
  std::vector<std::string> methods;
  std::vector<int> ns;
  std::map<std::pair<std::string, int>, double> acc;
  for (const auto& r : rows) {
    const std::string m = r.at("method");
    const int n = r.at("n");
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    if (std::find(ns.begin(), ns.end(), n) == ns.end()) ns.push_back(n);
    acc[{m, n}] = r.at("accuracy");
  }
  std::string out = "held-out accuracy of the answer each method picks among N samples\n";
  char cell[64];
  std::snprintf(cell, sizeof cell, "%6s", "N");
  out += cell;
  for (const auto& m : methods) {
    std::snprintf(cell, sizeof cell, " %12s", m.c_str());
    out += cell;
  }
  out += "\n";
  for (int n : ns) {
    std::snprintf(cell, sizeof cell, "%6d", n);
    out += cell;
    for (const auto& m : methods) {
      std::snprintf(cell, sizeof cell, " %12.3f", acc[{m, n}]);
      out += cell;
    }
    out += "\n";
  }
  return out;
}

}  // namespace mg
