// Commands that read a finished (or running) run without training it:
//   eval    held-out greedy accuracy per difficulty and the verdict's accuracy/AUROC
//   gap     the generation-verification gap of a checkpoint (the paper's offline study)
//   sample  answers for one prompt, optionally best-of-N by self-verification
//   export  a round's weights, checked against its MANIFEST, to a safetensors file or a
//           Hugging Face model directory
//   schedule  an adaptive curriculum's difficulty per round, as overrides that replay it
//   slices  per round, where the filter kept answers and where it dropped them, by slice
#include <algorithm>
#include <iostream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/run/safetensors.h"
#include "models/hf_weights.h"
#include "tools/cli/commands.h"
#include "tools/cli/run_args.h"
#include "trainers/gap_pipeline.h"
#include "trainers/inspect.h"

namespace mg::cli {

Action add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "held-out accuracy and verdict quality of a checkpoint");
  auto a = add_run_args(sub);
  return [a]() -> int {
    auto [ctx, model] = open_round(*a);
    nlohmann::json out = {{"round", a->round}};
    out.update(evaluate_checkpoint(ctx, model));
    if (ctx.writer()) std::cout << out.dump(2) << std::endl;
    return 0;
  };
}

Action add_gap(CLI::App& app) {
  auto* sub = app.add_subcommand("gap", "the generation-verification gap of a checkpoint, without training");
  auto a = add_run_args(sub);
  return [a]() -> int {
    auto [ctx, model] = open_round(*a);
    // The prompts the next round would see: this matches the gap that round measures.
    const nlohmann::json record = checkpoint_gap(ctx, model, a->round);
    if (ctx.writer()) {
      std::cerr << format_round_table({record});
      std::cout << record.dump() << std::endl;
    }
    return 0;
  };
}

Action add_sample(CLI::App& app) {
  auto* sub = app.add_subcommand("sample", "answers for a prompt; --best-of N returns the self-verified best of N");
  auto a = add_run_args(sub);
  auto prompt = std::make_shared<std::string>();
  auto best_of = std::make_shared<int>(1);
  sub->add_option("--prompt", *prompt, "the prompt, e.g. '62+85='")->required();
  sub->add_option("--best-of", *best_of, "sample N answers, self-verify them, print the best")->check(CLI::Range(1, 1024));
  return [a, prompt, best_of]() -> int {
    auto [ctx, model] = open_round(*a);
    // A character the tokenizer never saw becomes <unk>, and the answer to it is noise.
    for (char c : *prompt) {
      const auto ids = ctx.tokenizer->encode(std::string(1, c));
      if (ids.empty() || std::find(ids.begin(), ids.end(), ctx.tokenizer->unk_id()) != ids.end())
        fail_input("--prompt: the character '" + std::string(1, c) + "' is not in the run's vocabulary (a " +
                   ctx.recipe.task.name + " prompt such as '" + ctx.task->generate(0, 0, difficulty_for_round(ctx.recipe, 0)).prompt + "' is)");
    }
    const std::vector<ScoredSample> samples = scored_answers(ctx, model, *prompt, *best_of);
    size_t best = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].score > samples[best].score) best = i;
      std::cerr << "  " << samples[i].answer << "  score " << samples[i].score
                << (samples[i].correct ? "  (correct)" : "  (wrong)") << "\n";
    }
    std::cout << samples[best].answer << std::endl;
    return 0;
  };
}

Action add_export(CLI::App& app) {
  auto* sub = app.add_subcommand("export", "a round's weights (checked): a safetensors file, or a Hugging Face model directory");
  auto a = add_run_args(sub);
  auto out = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("safetensors");
  sub->add_option("--out", *out, "output: a .safetensors path, or with --format hf a directory")->required();
  sub->add_option("--format", *format, "safetensors (mindgap's tensor names) or hf (transformers loads it)")
      ->check(CLI::IsMember({"safetensors", "hf"}));
  return [a, out, format]() -> int {
    auto [ctx, model] = open_round(*a);
    if (!ctx.writer()) return 0;
    if (*format == "hf") {
      export_hf(ctx, model, a->round, *out);
      log::info("wrote " + *out + " (" + hf_architecture(model->config().pos) + ", round " + std::to_string(a->round) + ")");
      return 0;
    }
    save_safetensors(*out, module_state(*model), {{"round", std::to_string(a->round)}, {"recipe", fs::read_file(ctx.run.recipe())}});
    log::info("wrote " + *out);
    return 0;
  };
}

// An adaptive curriculum's schedule depends on what the self-verified arm kept, and the control
// arms cannot follow one of their own (none keeps everything); replaying the verified arm's
// schedule per round runs them on the same lengths for the same number of rounds.
Action add_schedule(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "schedule", "the difficulty each round of a run took, as key=value overrides (one per line) that replay it");
  auto dir = std::make_shared<std::string>();
  sub->add_option("run_dir", *dir, "run directory")->required();
  return [dir]() -> int {
    RunContext ctx = open_existing_run(*dir);
    const std::optional<std::string> overrides = schedule_overrides(ctx);
    if (!overrides) {
      log::info(*dir + ": its difficulty per round is its recipe's (no improve.advance): nothing to replay");
      return 0;
    }
    std::cout << *overrides;
    return 0;
  };
}

// A round's totals say how precise its filter was, not what kind of problem it kept: these
// rows split each round's samples and kept examples by the task's slices (addition: how many
// digits the sum has), from the files the round wrote. Nothing is generated or trained.
Action add_slices(CLI::App& app) {
  auto* sub = app.add_subcommand("slices", "per round, where the filter kept answers and where it dropped them");
  auto dir = std::make_shared<std::string>();
  auto round = std::make_shared<int>(0);
  sub->add_option("run_dir", *dir, "run directory")->required();
  auto* one = sub->add_option("--round", *round, "only this round (default: every complete improvement round)");
  return [dir, round, one]() -> int {
    RunContext ctx = open_existing_run(*dir);
    const int latest = latest_good_round(ctx.run);
    if (latest < 1) fail_input(*dir + ": no complete improvement round, so no kept samples to split");
    const bool only_one = one->count() > 0;
    if (only_one && (*round < 1 || *round > latest))
      fail_input(*dir + ": --round " + std::to_string(*round) + " is not a complete improvement round (1 to " +
                 std::to_string(latest) + ")");
    const int first = only_one ? *round : 1, last = only_one ? *round : latest;
    const std::vector<nlohmann::json> records = slice_records(ctx, first, last);
    if (ctx.writer()) {
      std::cerr << format_slice_table(records);
      for (const auto& j : records) std::cout << j.dump() << "\n";
      std::cout.flush();
    }
    return 0;
  };
}

}  // namespace mg::cli
