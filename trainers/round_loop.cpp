#include "trainers/round_loop.h"

#include <chrono>
#include <limits>

#include "core/fs.h"
#include "core/log.h"
#include "core/numerics.h"
#include "core/report/plot.h"
#include "core/run/stop_signal.h"
#include "trainers/curriculum/curriculum.h"
#include "trainers/gap_pipeline.h"
#include "trainers/run/stop_hook.h"
#include "trainers/stages/distill.h"
#include "trainers/stages/evaluate.h"

namespace mg {
namespace {

// Rows a killed run wrote for this round (or later ones) before committing it: this run
// writes them again.
void drop_uncommitted_rows(RunContext& ctx, int round) {
  ctx.metrics->drop([round](const nlohmann::json& row) {
    return row.value("kind", "") == "round" && row.value("round", -1) >= round;
  });
}

// The round's record (state.json, metrics.jsonl): its gap, what it kept, how distillation
// went, and the held-out measures of the distilled model (the evaluate stage).
nlohmann::json evaluated_record(RunContext& ctx, Gpt& model, const Round& round, const GapMeasure& measured,
                                const DistillSummary& distilled) {
  nlohmann::json record = gap_record(ctx.recipe, round.index, measured.gap, measured.filtered.kept, measured.verified);
  record["kind"] = "round";
  record["difficulty"] = {round.difficulty.lo, round.difficulty.hi};
  record["distill"] = {{"start_loss", distilled.start_loss}, {"end_loss", distilled.end_loss},
                       {"nonfinite_skipped", distilled.skipped}};
  record["greedy"] = held_out_accuracy(ctx, model, round.index);
  if (const nlohmann::json p = pass_at_record(ctx, model, round.index); !p.is_null()) record["pass_at"] = p;
  return record;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One round, as the paper's loop: generate -> verify -> filter (the gap measured on its
// choice: measure_gap) -> distill -> held-out eval -> commit. Each stored stage reuses the
// output a killed run left (RoundStore::run), so a resume ends with the same bytes.
nlohmann::json run_one_round(RunContext& ctx, int index) {
  const auto started = std::chrono::steady_clock::now();
  require_peer_rounds(ctx, index);  // before anything of the round is written
  Gpt model = make_model(ctx);
  load_round_weights(ctx, index - 1, model);  // refused weights: nothing of the round is written
  drop_uncommitted_rows(ctx, index);
  RoundStore store(ctx, index);
  const Round round = make_round(ctx, index);
  const GapMeasure measured = measure_gap(store, ctx, model, round);
  const auto& kept = measured.filtered.kept;
  const DistillSummary distilled = store.run(Distill{ctx, model, round, measured.verified, kept});
  nlohmann::json record =
      store.timed("eval", [&] { return evaluated_record(ctx, model, round, measured, distilled); });
  store.seconds()["round"] = seconds_since(started);
  record["seconds"] = store.seconds();
  ctx.metrics->write(record);
  maybe_stop_after(index, "metrics");  // the row is written, the round not yet committed
  record["numerics"] = numerics_here(ctx.device, ctx.recipe.run.threads);  // state.json only
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
