#include "trainers/round_loop.h"

#include <chrono>
#include <limits>
#include <set>

#include "core/finite_check.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/numerics.h"
#include "core/plot.h"
#include "core/safetensors.h"
#include "core/stop_signal.h"
#include "trainers/run/curriculum.h"
#include "trainers/run/round_prompts.h"
#include "trainers/run/round_report.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/stage_files.h"
#include "trainers/run/stop_hook.h"
#include "trainers/stages/distill.h"
#include "trainers/stages/distill_data.h"
#include "trainers/stages/evaluate.h"
#include "trainers/stages/filter.h"
#include "trainers/stages/gap_metrics.h"
#include "trainers/stages/generate.h"
#include "trainers/stages/verify.h"
#include "trainers/training/held_out.h"
#include "trainers/verifiers/peer_vote.h"

namespace mg {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

namespace {

// Saves a stage's output on rank 0 once it is complete, then every rank moves on together.
// The boundary is a safe point: a signal stops the run here, every file whole.
template <class F>
void rank0_write(RunContext& ctx, int round, const std::string& stage, F&& write) {
  if (ctx.writer()) write();
  ctx.comm->barrier();
  maybe_stop_after(round, stage);
  stop_point(*ctx.comm, "in round " + std::to_string(round) + " after " + stage);
}

nlohmann::json run_one_round(RunContext& ctx, int round) {
  const auto& imp = ctx.recipe.improve;
  auto t_round = Clock::now();
  // A peer that lacks the round that votes stops this round before it writes anything.
  if (verify_uses(imp.verify, VerifyMethod::Peers) && !fs::exists(ctx.run.round_tmp(round) / "scored.jsonl"))
    for (const auto& peer : imp.verify.peers) peer_round(ctx.recipe, peer, round - 1);
  // The previous round's weights first: if they are refused, nothing of this round is written.
  Gpt model = make_model(ctx);
  load_round_weights(ctx, round - 1, model);
  // Rows a killed run wrote for this round (or later ones) before committing it: this run
  // writes them again.
  ctx.metrics->drop([round](const nlohmann::json& row) {
    return row.value("kind", "") == "round" && row.value("round", -1) >= round;
  });
  RoundWriter writer(ctx.run, round);
  auto dir = writer.dir();
  // The stages a killed run already finished, seen by every rank before rank 0 writes
  // anything of this round. Looked up later instead, a file rank 0 has just written would
  // send a slower rank down the resume branch, past the barrier the others wait in.
  // A damaged one is discarded there and recomputed.
  const std::set<std::string> done = usable_stage_files(ctx, writer);
  auto problems = round_problems(ctx, round);
  nlohmann::json times;

  auto t = Clock::now();
  std::vector<ScoredSample> samples;
  if (done.count("samples.jsonl")) {
    samples = read_samples(dir / "samples.jsonl");
  } else {
    samples = stage_generate(ctx, model, round, problems);
    rank0_write(ctx, round, "generate", [&] { write_samples(dir / "samples.jsonl", samples, false); });
  }
  times["generate"] = since(t);

  t = Clock::now();
  std::vector<ScoredSample> check_answers;  // filter.adopt: the check's own answer per prompt
  if (done.count("scored.jsonl")) {
    samples = read_samples(dir / "scored.jsonl");
    if (imp.filter.adopt) check_answers = read_samples(dir / "check_answers.jsonl");
  } else {
    samples = stage_verify(ctx, model, round, problems, samples, &check_answers);
    // scored.jsonl last: its presence says the stage is complete.
    rank0_write(ctx, round, "verify", [&] {
      if (imp.filter.adopt) write_samples(dir / "check_answers.jsonl", check_answers, true);
      write_samples(dir / "scored.jsonl", samples, true);
    });
  }
  times["verify"] = since(t);

  // The gap is measured on the filter's choice before dedup, recomputed on a resume.
  Filtered filtered = filter_round(samples, imp.filter, check_answers);
  const GapMetrics gap = gap_metrics(samples, filtered.selected, imp.pass_k);
  std::vector<Kept> kept;
  if (done.count("kept.jsonl")) {
    kept = read_kept(dir / "kept.jsonl");
  } else {
    kept = std::move(filtered.kept);
    rank0_write(ctx, round, "filter", [&] { write_kept(dir / "kept.jsonl", kept); });
  }

  t = Clock::now();
  const std::vector<std::string> prompts = prompt_texts(problems);
  DistillSummary distilled;
  if (done.count("model.safetensors")) {
    std::map<std::string, std::string> meta;
    auto state = load_safetensors(dir / "model.safetensors", &meta);
    load_module_state(*model, state, (dir / "model.safetensors").string());
    model->to(ctx.device);
    distilled = distill_summary_from(meta);
  } else {
    if (imp.distill.init == "base") load_round_weights(ctx, 0, model);
    distilled = distill(ctx, model, round, distill_examples(ctx, round, prompts, samples, kept, check_answers));
    // Before anything of it is saved: every rank saw the same (all-reduced) losses.
    refuse_divergence(distilled, imp.distill.max_loss_ratio, round);
    require_finite(module_state(*model), ErrorKind::Internal, "round " + std::to_string(round) + ": distillation",
                   "; the round is not committed (training diverged: lower improve.distill.lr)");
    rank0_write(ctx, round, "distill", [&] {
      auto part = dir / "model.safetensors.part";
      auto meta = distill_metadata(distilled);
      meta["round"] = std::to_string(round);
      save_safetensors(part, module_state(*model), meta);
      std::filesystem::rename(part, dir / "model.safetensors");
    });
  }
  times["distill"] = since(t);

  t = Clock::now();
  nlohmann::json record = gap_record(ctx.recipe, round, gap, kept, check_answers);
  record["kind"] = "round";
  Range d = round_difficulty(ctx, round);
  record["difficulty"] = {d.lo, d.hi};
  record["distill"] = {{"start_loss", distilled.start_loss}, {"end_loss", distilled.end_loss},
                       {"nonfinite_skipped", distilled.skipped}};
  record["greedy"] = held_out_accuracy(ctx, model, round);
  times["eval"] = since(t);
  times["round"] = since(t_round);
  record["seconds"] = times;
  ctx.metrics->write(record);
  maybe_stop_after(round, "metrics");  // the row is written, the round not yet committed
  // state.json only, not metrics.jsonl: how this round's floats were rounded.
  record["numerics"] = numerics_here(ctx.device, ctx.recipe.run.threads);
  rank0_write(ctx, round, "commit", [&] {
    fs::write_file_atomic(dir / "state.json", record.dump(2));
    writer.commit();
  });
  return record;
}

}  // namespace

std::vector<nlohmann::json> run_rounds(RunContext& ctx) {
  std::vector<nlohmann::json> records;
  const auto& imp = ctx.recipe.improve;
  // Round 0's held-out accuracy is the baseline row of the table.
  for (int round = 1; round <= imp.rounds; ++round) {
    nlohmann::json record;
    if (fs::exists(ctx.run.round(round) / "state.json") && latest_good_round(ctx.run) >= round) {
      record = committed_round_record(ctx.run, round);
      log::info("round " + std::to_string(round) + " is complete: skipped");
    } else {
      stop_point(*ctx.comm, "before round " + std::to_string(round));
      log::info("round " + std::to_string(round) + " (" + arm_label(ctx.recipe) + ", difficulty " +
                difficulty_label(round_difficulty(ctx, round)) + ")");
      record = run_one_round(ctx, round);
      if (ctx.writer()) plot_gap({ctx.run.root}, ctx.run.root / "gap.png");
    }
    records.push_back(record);
    if (ctx.writer()) log::info(format_round_table(records));
    // A relative gap of null (nothing kept) never stops the loop.
    const auto& rel_j = record["relative_gap"];
    double rel = rel_j.is_number() ? rel_j.get<double>() : std::numeric_limits<double>::quiet_NaN();
    if (rel < imp.stop_when_relative_gap_below) {
      log::info("relative gap " + std::to_string(rel) + " is below improve.stop_when_relative_gap_below (" +
                std::to_string(imp.stop_when_relative_gap_below) + "): the gap has saturated, stopping");
      break;
    }
    if (adaptive_curriculum(ctx.recipe) && curriculum_positions(ctx.recipe, records).back().complete) {
      log::info(curriculum_complete_message(ctx.recipe, record));
      break;
    }
  }
  return records;
}

}  // namespace mg
