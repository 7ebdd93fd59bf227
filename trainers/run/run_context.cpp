#include "trainers/run/run_context.h"

#include <filesystem>
#include <functional>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/run/manifest.h"
#include "core/numerics.h"
#include "core/run/safetensors.h"
#include "core/tasks/verification.h"
#include "trainers/run/run_fork.h"
#include "trainers/run/seeds.h"

namespace mg {

std::vector<Range> run_difficulties(const Recipe& recipe) {
  std::vector<Range> out;
  auto add = [&](Range d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  };
  add(difficulty_for_round(recipe, 0));
  if (adaptive_curriculum(recipe))
    for (Range d : curriculum_steps(recipe)) add(d);
  else
    for (int r = 1; r <= recipe.improve.rounds; ++r) add(difficulty_for_round(recipe, r));
  return out;
}

namespace {

// Rank 0 trains the tokenizer of a new run, or checks the run's against its checksum (a
// resume's was checked with the recipe, by inspect_run_dir; read-only commands check it here).
void check_or_train_tokenizer(RunContext& ctx, bool create) {
  const auto path = ctx.run.tokenizer();
  if (!fs::exists(path)) {
    if (!create) fail_input(path.string() + ": missing (the run has not pretrained, or the file was lost)");
    // Trained on every difficulty the run will see, so later rounds meet no unknown symbol.
    std::vector<std::string> corpus;
    uint64_t seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::Tokenizer);
    for (const auto& d : run_difficulties(ctx.recipe)) {
      auto part = tokenizer_corpus(*ctx.task, d, seed, 2000);
      corpus.insert(corpus.end(), part.begin(), part.end());
    }
    auto tmp = path;
    tmp += ".tmp";
    Tokenizer::train(corpus, ctx.recipe.tokenizer.vocab_size, tmp.string(), teaches_pairs(ctx.recipe));
    // The checksum first: a run killed before the rename retrains the same file here.
    set_manifest_entry(ctx.run.root, "tokenizer.model", sha256_file(tmp));
    std::filesystem::rename(tmp, path);
    fs::fsync_dir(ctx.run.root);
    return;
  }
  if (!create) return require_run_file_intact(ctx.run, "tokenizer.model");
  if (check_run_file(ctx.run, "tokenizer.model") == RunFileCheck::Unlisted) {
    log::warn(path.string() + ": had no checksum (a run written before it had one); recording it now");
    record_run_file(ctx.run, "tokenizer.model");
  }
}

// A run carried on with other numerics than its last round's is still a right run, but not
// the bit-identical continuation that a resume is elsewhere: say so once, naming the change.
void warn_if_numerics_changed(const RunContext& ctx) {
  const int last = latest_good_round(ctx.run);
  if (last < 0) return;
  auto path = ctx.run.round(last) / "state.json";
  if (!fs::exists(path)) return;
  nlohmann::json state;
  try {
    state = load_round_state(ctx.run, last);
  } catch (const Error&) {
    return;  // a damaged state is reported, naming the file, where the round is used
  }
  if (!state.contains("numerics")) return;
  if (auto change = numerics_change(state["numerics"], numerics_here(ctx.device, ctx.recipe.run.threads)))
    log::warn("round " + std::to_string(last) + " was computed with other numerics (" + *change +
              "): the rounds from here on are not bit-identical to those computed there (floats round "
              "differently)");
}

// Runs `step` on this rank where `here` is true. A failure on any rank becomes every rank's
// error, with the failing rank's message and exit code, and the ranks leave MPI in order
// first: an error unwinding past a live communicator would end the job with MPI_Abort (exit 1,
// and a rank that did not fail would not say why).
void on_ranks_together(RunContext& ctx, bool here, const std::function<void()>& step) {
  if (ctx.comm->world_size() == 1) {
    if (here) step();
    return;
  }
  std::string failure;  // "<exit code> <message>"
  if (here) {
    try {
      step();
    } catch (const Error& e) {
      failure = std::to_string(e.exit_code()) + " " + e.what();
    } catch (const std::exception& e) {
      failure = std::to_string(static_cast<int>(ErrorKind::Internal)) + " " + e.what();
    }
  }
  const auto all = ctx.comm->all_gather_bytes(failure);
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    const int me = ctx.comm->rank();
    ctx.comm.reset();
    const size_t space = all[r].find(' ');
    const auto kind = static_cast<ErrorKind>(std::stoi(all[r].substr(0, space)));
    const std::string message = all[r].substr(space + 1);
    throw Error(kind, static_cast<int>(r) == me ? message : "rank " + std::to_string(r) + ": " + message);
  }
}

}  // namespace

RunContext open_run(const Recipe& recipe, bool create, const std::string& from) {
  RunContext ctx;
  ctx.recipe = recipe;
  RankInfo ranks = discover_ranks();
  log::configure(ranks.rank, log::Level::Info);
  set_threads(recipe.run.threads);
  ctx.device = pick_device(recipe.run.device, ranks.local_rank);
  ctx.precision = pick_precision(recipe.run.precision, ctx.device);
  ctx.comm = make_communicator(ranks, ctx.device, recipe.run.dist_timeout_s);
  if (ctx.comm->world_size() > 1 && ctx.comm->rank() == 0)
    log::info(std::to_string(ctx.comm->world_size()) + " ranks launched by " + ranks.launcher + ", communicating over " +
              ctx.comm->backend());
  // Rank 0 takes the run's lock before anything of the run is written (a directory that is
  // refused anyway gets no lock file); every rank learns of a refusal.
  if (create)
    on_ranks_together(ctx, ctx.writer(), [&] {
      inspect_run_dir(recipe);
      ctx.lock = std::make_unique<RunLock>(recipe.run.dir);
    });
  if (!from.empty()) on_ranks_together(ctx, ctx.writer(), [&] { fork_from(recipe, from); });
  // Every rank checks the directory before rank 0 changes anything.
  on_ranks_together(ctx, true, [&] {
    if (create) {
      ctx.run = open_run_dir(recipe, /*write=*/false);
    } else {  // reading a finished run, possibly with other verify/filter settings: no comparison
      ctx.run.root = recipe.run.dir;
      ctx.run.resumed = true;
      refuse_old_round_format(ctx.run);
    }
  });
  on_ranks_together(ctx, true, [&] {
    if (create && ctx.writer()) {
      ctx.run = open_run_dir(recipe, /*write=*/true);
      warn_if_numerics_changed(ctx);
    }
    ctx.task = make_task(recipe.task);
    // A reader never touches metrics.jsonl, not even to end a line a writer is still writing.
    ctx.metrics = std::make_unique<MetricsLog>(ctx.run.metrics(), create && ctx.writer());
  });
  on_ranks_together(ctx, ctx.writer(), [&] { check_or_train_tokenizer(ctx, create); });
  on_ranks_together(ctx, true, [&] {
    ctx.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(ctx.run.tokenizer().string()));
  });
  return ctx;
}

RunContext open_existing_run(const std::string& run_dir, const std::vector<std::string>& overrides) {
  auto path = std::filesystem::path(run_dir) / "recipe.yaml";
  if (!fs::exists(path)) fail_input(run_dir + ": not a run directory (no recipe.yaml)");
  RunDir run;
  run.root = run_dir;
  require_run_file_intact(run, "recipe.yaml");
  Recipe recipe = load_recipe(path.string(), overrides);
  recipe.run.dir = run_dir;
  if (!fs::exists(std::filesystem::path(run_dir) / "tokenizer.model"))
    fail_input(run_dir + ": the run has no tokenizer.model yet (it has not pretrained)");
  return open_run(recipe, /*create=*/false);
}

Gpt make_model(const RunContext& ctx) {
  torch::manual_seed(derive_seed(ctx.recipe.run.seed, SeedPurpose::TorchInit) >> 1);
  Gpt model(GptConfig::from(ctx.recipe.model, ctx.tokenizer->vocab_size()));
  model->to(ctx.device);
  return model;
}

void load_round_weights(const RunContext& ctx, int round, Gpt& model) {
  load_round_weights(ctx.run, round, model, ctx.device);
}

void load_round_weights(const RunDir& run, int round, Gpt& model, const torch::Device& device) {
  auto dir = run.round(round);
  std::string problem;
  if (!verify_round(run, round, &problem)) fail_input(dir.string() + ": checkpoint failed its checksum: " + problem);
  auto state = load_safetensors(dir / "model.safetensors");
  load_module_state(*model, state, (dir / "model.safetensors").string());
  model->to(device);
}

}  // namespace mg
