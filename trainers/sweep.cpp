#include "trainers/sweep.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/distributed/rank_env.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/report/plot.h"
#include "core/run/run_lock.h"
#include "core/recipe/sweep_shape.h"
#include "trainers/gap_pipeline.h"
#include "trainers/pretrain.h"
#include "trainers/training/snapshots.h"

namespace mg {
namespace {

namespace stdfs = std::filesystem;

void require_points(const Recipe& r) {
  if (r.sweep.shapes.empty()) fail_input(r.source + ": sweep.shapes: empty: a sweep needs at least one model shape");
  if (r.sweep.at_steps.empty()) fail_input(r.source + ": sweep.at_steps: empty: a sweep needs at least one step");
  if (r.sweep.methods.empty()) fail_input(r.source + ": sweep.methods: empty: a sweep needs at least one verify method");
}

// The recipe of one shape's run: the sweep's, with the shape's dimensions, pretrained to the
// last step with the weights kept at every step, no early stop, checked like any recipe.
Recipe shape_recipe(const Recipe& sweep, const SweepShape& shape) {
  Recipe r = sweep;
  r.model.n_layer = shape.n_layer;
  r.model.d_model = shape.d_model;
  r.model.n_head = shape.n_head;
  r.pretrain.steps = sweep.sweep.at_steps.back();
  r.pretrain.keep_at = sweep.sweep.at_steps;
  r.pretrain.stop_at_greedy = 2.0;
  r.run.dir = (stdfs::path(sweep.run.dir) / shape.name).string();
  return parse_recipe(recipe_to_yaml(r), sweep.source + " (shape " + shape.name + ")");
}

nlohmann::json point_row(const SweepShape& shape, Gpt& model, const SnapshotInfo& at, const std::string& method,
                         const GapMetrics& gap) {
  nlohmann::json row = {{"shape", shape.name},     {"n_layer", shape.n_layer}, {"d_model", shape.d_model},
                        {"n_head", shape.n_head},  {"vocab", model->config().vocab},
                        {"params", model->num_parameters()},                   {"step", at.step},
                        {"tokens", at.tokens},     {"flops", at.flops},        {"method", method}};
  row.update(to_json(gap));
  return row;
}

// The rows of one point: every method's gap on the same samples of the shape's snapshot.
std::vector<nlohmann::json> measure_point(RunContext& ctx, const SweepShape& shape, int step,
                                          const std::vector<std::string>& methods) {
  Gpt model = make_model(ctx);
  const SnapshotInfo at = load_snapshot(ctx.run, step, model, ctx.device);
  model->eval();
  const Round round = make_round(ctx, 1);  // the prompts round 1 would see, as `mindgap gap --round 0`
  RoundStore store = RoundStore::in_memory(ctx);
  const std::vector<ScoredSample> samples = store.run(Generate{ctx, model, round});
  std::vector<nlohmann::json> rows;
  for (const auto& method : methods) {
    // Every method scores the same samples; the gap is the samples' alone.
    const GapMetrics gap = measure_gap_of(store, ctx, model, round, samples, study_arm(ctx.recipe, method)).gap;
    rows.push_back(point_row(shape, model, at, method, gap));
    log::info("sweep " + shape.name + " step " + std::to_string(step) + " " + method + ": J(f) " +
              std::to_string(gap.J_f) + ", gap " + std::to_string(gap.gap) + ", AUROC " + std::to_string(gap.auroc));
  }
  return rows;
}

// The stored rows of a point when they hold exactly `methods`, in order; else empty.
std::vector<nlohmann::json> stored_point(const stdfs::path& path, const std::vector<std::string>& methods) {
  if (!stdfs::exists(path)) return {};
  nlohmann::json stored;
  try {
    stored = nlohmann::json::parse(fs::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    log::warn(path.string() + ": unreadable (" + e.what() + "): the point is measured again");
    return {};
  }
  if (!stored.is_array() || stored.size() != methods.size()) return {};
  for (size_t i = 0; i < methods.size(); ++i)
    if (!stored[i].is_object() || stored[i].value("method", "") != methods[i]) return {};
  return stored.get<std::vector<nlohmann::json>>();
}

std::vector<nlohmann::json> run_shape(const Recipe& sweep, const SweepShape& shape) {
  RunContext ctx = open_run(shape_recipe(sweep, shape), /*create=*/true);
  log::info("sweep shape " + shape.name + " (" + ctx.run.root.string() + ")");
  pretrain(ctx);
  std::vector<nlohmann::json> rows;
  for (int step : sweep.sweep.at_steps) {
    const stdfs::path path = ctx.run.root / "points" / ("step-" + std::to_string(step) + ".json");
    std::vector<nlohmann::json> point = stored_point(path, sweep.sweep.methods);
    if (point.empty()) {
      point = measure_point(ctx, shape, step, sweep.sweep.methods);
      stdfs::create_directories(path.parent_path());
      fs::write_file_atomic(path, nlohmann::json(point).dump() + "\n");
    }
    rows.insert(rows.end(), point.begin(), point.end());
  }
  return rows;
}

std::string jsonl(const std::vector<nlohmann::json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

double number_or_nan(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

}  // namespace

std::vector<std::pair<std::string, LinearFit>> sweep_fits(const std::vector<nlohmann::json>& rows) {
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> xy;
  for (const auto& r : rows) {
    const std::string m = r.at("method");
    if (!xy.count(m)) order.push_back(m);
    const double flops = number_or_nan(r.at("flops"));
    xy[m].first.push_back(flops > 0 ? std::log10(flops) : std::nan(""));
    xy[m].second.push_back(number_or_nan(r.at("relative_gap")));
  }
  std::vector<std::pair<std::string, LinearFit>> out;
  for (const auto& m : order) out.emplace_back(m, fit_line(xy[m].first, xy[m].second));
  return out;
}

std::string format_sweep_table(const std::vector<nlohmann::json>& rows,
                               const std::vector<std::pair<std::string, LinearFit>>& fits) {
  auto num = [](const nlohmann::json& v, const char* fmt) {
    if (!v.is_number()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, v.get<double>());
    return std::string(buf);
  };
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "%-14s %-10s %7s %9s %6s %8s %7s %7s %6s %6s\n", "method", "shape", "step", "FLOPs",
                "J(f)", "J(f[w])", "gap", "rel.gap", "AUROC", "wAUROC");
  out += line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-14s %-10s %7d %9s %6s %8s %7s %7s %6s %6s\n",
                  r.at("method").get<std::string>().c_str(), r.at("shape").get<std::string>().c_str(),
                  r.at("step").get<int>(), num(r.at("flops"), "%.2e").c_str(), num(r.at("J_f"), "%.3f").c_str(),
                  num(r.at("J_filtered"), "%.3f").c_str(), num(r.at("gap"), "%+.3f").c_str(),
                  num(r.at("relative_gap"), "%+.3f").c_str(), num(r.at("auroc"), "%.3f").c_str(),
                  num(r.value("auroc_within", nlohmann::json()), "%.3f").c_str());
    out += line;
  }
  out += "\nrelative gap = a + b * log10(FLOPs), least squares per method:\n";
  std::snprintf(line, sizeof line, "%-14s %8s %8s %6s %6s\n", "method", "slope b", "a", "R^2", "points");
  out += line;
  for (const auto& [m, f] : fits) {
    std::snprintf(line, sizeof line, "%-14s %8s %8s %6s %6d\n", m.c_str(), num(f.slope, "%+.4f").c_str(),
                  num(f.intercept, "%+.3f").c_str(), num(f.r2, "%.3f").c_str(), f.points);
    out += line;
  }
  return out;
}

void run_sweep(const Recipe& recipe) {
  require_points(recipe);
  if (discover_ranks().world_size > 1)
    fail_input("mindgap sweep runs as one process (its shapes are separate runs, one after another): launch it "
               "without mpirun, torchrun or srun");
  std::vector<SweepShape> shapes;
  for (const auto& text : recipe.sweep.shapes) shapes.push_back(*parse_sweep_shape(text, recipe.model.n_head));
  // Every shape's recipe is checked before the first one trains.
  for (const auto& shape : shapes) shape_recipe(recipe, shape);
  const stdfs::path root = recipe.run.dir;
  RunLock lock(root);  // one sweep writes here at a time; each shape's run takes its own lock too
  fs::write_file_atomic(root / "sweep.yaml", recipe_to_yaml(recipe));
  std::vector<nlohmann::json> rows;
  for (const auto& shape : shapes) {
    auto shape_rows = run_shape(recipe, shape);
    rows.insert(rows.end(), shape_rows.begin(), shape_rows.end());
  }
  // By method, then shape and step as listed: each method's line reads in order of compute.
  std::stable_sort(rows.begin(), rows.end(), [&recipe](const nlohmann::json& a, const nlohmann::json& b) {
    const auto& ms = recipe.sweep.methods;
    return std::find(ms.begin(), ms.end(), a.at("method")) < std::find(ms.begin(), ms.end(), b.at("method"));
  });
  const auto fits = sweep_fits(rows);
  std::vector<nlohmann::json> fit_rows;
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  for (const auto& [m, f] : fits)
    fit_rows.push_back({{"method", m}, {"slope", number(f.slope)}, {"intercept", number(f.intercept)},
                        {"r2", number(f.r2)}, {"points", f.points}});
  fs::write_file_atomic(root / "sweep.jsonl", jsonl(rows));
  fs::write_file_atomic(root / "sweep_fit.jsonl", jsonl(fit_rows));
  std::fprintf(stderr, "%s", format_sweep_table(rows, fits).c_str());
  draw_plot(sibling_plot_script("plot_sweep.py"), {root.string()}, root / "sweep.png", "sweep plot");
}

}  // namespace mg
