#include "trainers/round_loop.h"

#include <chrono>
#include <limits>

#include "core/fs.h"
#include "core/log.h"
#include "core/numerics.h"
#include "core/plot.h"
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

namespace mg {
namespace {

// Rows a killed run wrote for this round (or later ones) before committing it: this run
// writes them again.
void drop_uncommitted_rows(RunContext& ctx, int round) {
  ctx.metrics->drop([round](const nlohmann::json& row) {
    return row.value("kind", "") == "round" && row.value("round", -1) >= round;
  });
}

// The round's record (state.json, metrics.jsonl): its gap, what it kept and how distillation went.
nlohmann::json round_record(const RunContext& ctx, const Round& round, const GapMetrics& gap,
                            const std::vector<Kept>& kept, const Verified& verified, const DistillSummary& distilled) {
  nlohmann::json record = gap_record(ctx.recipe, round.index, gap, kept, verified.check);
  record["kind"] = "round";
  record["difficulty"] = {round.difficulty.lo, round.difficulty.hi};
  record["distill"] = {{"start_loss", distilled.start_loss}, {"end_loss", distilled.end_loss},
                       {"nonfinite_skipped", distilled.skipped}};
  return record;
}

// One round, as the paper's loop: generate -> verify -> filter (the gap measured on its
// choice) -> distill -> held-out eval -> commit. Each stage reuses its stored output when a
// killed run left it (RoundStore::reuse_or_run), so a resume ends with the same bytes.
nlohmann::json run_one_round(RunContext& ctx, int index) {
  const auto& imp = ctx.recipe.improve;
  const auto started = std::chrono::steady_clock::now();
  require_peer_rounds(ctx, index);  // before anything of the round is written
  Gpt model = make_model(ctx);
  load_round_weights(ctx, index - 1, model);  // refused weights: nothing of the round is written
  drop_uncommitted_rows(ctx, index);
  RoundStore store(ctx, index);
  const Round round = make_round(ctx, index);
  const auto samples = store.reuse_or_run("generate", "samples.jsonl", [&] { return stage_generate(ctx, model, round); },
      [](const auto& dir) { return read_samples(dir / "samples.jsonl"); },
      [](const auto& dir, const auto& s) { write_samples(dir / "samples.jsonl", s, false); });
  const Verified verified = store.reuse_or_run("verify", "scored.jsonl", [&] { return stage_verify(ctx, model, round, samples); },
      [](const auto& dir) { return read_verified(dir); }, [](const auto& dir, const Verified& v) { write_verified(dir, v); });
  Filtered filtered = filter_round(verified.samples, imp.filter, verified.check);
  const GapMetrics gap = gap_metrics(verified.samples, filtered.selected, imp.pass_k);  // recomputed on a resume
  const auto kept = store.reuse_or_run("filter", "kept.jsonl", [&] { return std::move(filtered.kept); },
      [](const auto& dir) { return read_kept(dir / "kept.jsonl"); },
      [](const auto& dir, const auto& k) { write_kept(dir / "kept.jsonl", k); }, /*timed=*/false);
  const DistillSummary distilled = store.reuse_or_run("distill", "model.safetensors",
      [&] { return distill_round(ctx, model, index, distill_examples(ctx, index, round.prompts, verified.samples, kept, verified.check)); },
      [&](const auto& dir) { return load_distilled(dir / "model.safetensors", ctx, model); },
      [&](const auto& dir, const DistillSummary& d) { save_distilled(dir / "model.safetensors", model, d, index); });
  nlohmann::json record = store.timed("eval", [&] {
    auto r = round_record(ctx, round, gap, kept, verified, distilled);
    r["greedy"] = held_out_accuracy(ctx, model, index);
    if (const nlohmann::json p = pass_at_record(ctx, model, index); !p.is_null()) r["pass_at"] = p;
    return r;
  });
  store.seconds()["round"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  record["seconds"] = store.seconds();
  ctx.metrics->write(record);
  maybe_stop_after(index, "metrics");  // the row is written, the round not yet committed
  record["numerics"] = numerics_here(ctx.device, ctx.recipe.run.threads);  // state.json only: how its floats were rounded
  store.commit(record);
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
