#include "trainers/run/run_context.h"

#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/manifest.h"
#include "core/numerics.h"
#include "core/safetensors.h"
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

void ensure_tokenizer(RunContext& ctx, bool create) {
  bool ok = true;
  std::string why;
  if (ctx.writer()) {
    try {
      check_or_train_tokenizer(ctx, create);
    } catch (const Error& e) {
      if (ctx.comm->world_size() == 1) throw;
      ok = false;
      why = e.what();
    }
  }
  ctx.comm->agree(ok, ok ? "checking the tokenizer" : why);
  ctx.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(ctx.run.tokenizer().string()));
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

// Rank 0 takes the run's lock before anything of the run is written; under mpirun every rank
// learns of a refusal and fails with it, instead of waiting for a rank 0 that has left.
void take_run_lock(RunContext& ctx) {
  std::string refused;
  if (ctx.writer()) {
    try {
      inspect_run_dir(ctx.recipe);  // a directory that is refused anyway gets no lock file
      ctx.lock = std::make_unique<RunLock>(ctx.recipe.run.dir);
    } catch (const Error& e) {
      refused = e.what();
    }
  }
  if (ctx.comm->world_size() > 1) {
    auto from_rank0 = ctx.comm->all_gather_bytes(refused)[0];
    if (!ctx.writer() && !from_rank0.empty()) refused = "rank 0 could not open the run: " + from_rank0;
    // Every rank fails here together: leave MPI in order (a communicator destroyed while the
    // error unwinds would end the job with MPI_Abort and exit 1 instead of this error's 2).
    if (!from_rank0.empty()) ctx.comm.reset();
  }
  if (!refused.empty()) fail_input(refused);
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
  if (create) take_run_lock(ctx);
  // Every rank checks the directory before rank 0 changes anything; then all agree.
  bool ok = true;
  std::string why;
  if (!from.empty()) {  // rank 0 copies; a failure there is every rank's error, not a hang
    bool forked = true;
    std::string fork_error;
    try {
      if (ctx.writer()) fork_from(recipe, from);
    } catch (const Error& e) {
      forked = false;
      fork_error = e.what();
    }
    if (!forked && ctx.comm->world_size() == 1) fail_input(fork_error);
    ctx.comm->agree(forked, forked ? "forking the run from " + from : fork_error);
  }
  try {
    if (create) {
      ctx.run = open_run_dir(recipe, ctx.writer());
    } else {  // reading a finished run, possibly with other verify/filter settings: no comparison
      ctx.run.root = recipe.run.dir;
      ctx.run.resumed = true;
      refuse_old_round_format(ctx.run);
    }
  } catch (const Error& e) {
    ok = false;
    why = e.what();
  }
  if (!ok && ctx.comm->world_size() == 1) fail_input(why);
  ctx.comm->agree(ok, ok ? "opening the run directory" : why);
  if (create && ctx.writer()) warn_if_numerics_changed(ctx);
  ctx.task = make_task(recipe.task);
  // A reader never touches metrics.jsonl, not even to end a line a writer is still writing.
  ctx.metrics = std::make_unique<MetricsLog>(ctx.run.metrics(), create && ctx.writer());
  ensure_tokenizer(ctx, create);
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
