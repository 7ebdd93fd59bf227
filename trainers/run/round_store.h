#pragma once
// What a round can take from disk: the stage outputs a killed run left in round-XXXX.tmp, and
// the records of committed rounds. A stage file that cannot be read is not an error to repeat
// on every rerun: it is discarded (with the stages after it) and recomputed, which gives the
// same bytes, since every stage is a function of the seeds and the previous round.
#include <chrono>
#include <concepts>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/run/checkpoint.h"
#include "core/fs.h"
#include "core/run/stop_signal.h"
#include "trainers/run/run_context.h"
#include "trainers/run/stop_hook.h"

namespace mg {

// The stage outputs in `writer`'s directory that a resume can use ("samples.jsonl",
// "scored.jsonl", "kept.jsonl", "model.safetensors"), each read back in full first. The first
// that fails to read (and every later one) is left out, named in a warning, and removed by
// rank 0 once every rank has looked. Collective: every rank calls it.
std::set<std::string> usable_stage_files(RunContext& ctx, const RoundWriter& writer);

// A stage of a round as a type that knows its file: the store runs it, or reads what a killed
// run left, and writes its output at the stage boundary. A stage type has
//   static constexpr const char* name;   // its entry in the round's seconds, and its stop point
//   static constexpr const char* file;   // its output in the round directory
//   Output run();                        // computes the output (every rank)
//   Output read(const std::filesystem::path& dir);               // a resumed round reads it
//   void write(const std::filesystem::path& dir, const Output&); // rank 0 writes it
// and, optionally, `static constexpr bool timed = false` for a stage not timed on its own.
template <class Stage>
concept RoundStage = requires(Stage s, const std::filesystem::path& dir) {
  { Stage::name } -> std::convertible_to<const char*>;
  { Stage::file } -> std::convertible_to<const char*>;
  s.write(dir, s.run());
  s.read(dir);
};

// The resume rule of a round, in one place. Built before anything of the round is written: it
// looks, on every rank, at what a killed run left in round-XXXX.tmp (usable_stage_files; a
// file looked up later instead, one rank 0 had just written would send a slower rank down the
// resume branch, past the barrier the others wait in).
// A store made without a round (RoundStore::in_memory) runs every stage and keeps nothing: the
// offline measures (`mindgap gap`, `sweep`, `testtime`) go through the same stages as a round.
class RoundStore {
 public:
  RoundStore(RunContext& ctx, int round) : ctx_(ctx), round_(round), writer_(std::in_place, ctx.run, round) {
    done_ = usable_stage_files(ctx, *writer_);
  }
  static RoundStore in_memory(RunContext& ctx) { return RoundStore(ctx); }
  const std::filesystem::path dir() const;

  // The stage's output: read from its file when the round already has it, else computed and
  // written by rank 0 at the stage boundary (write_at). Timed under the stage's name.
  template <class Stage>
    requires RoundStage<std::remove_cvref_t<Stage>>
  auto run(Stage&& stage) {
    using S = std::remove_cvref_t<Stage>;
    const auto start = std::chrono::steady_clock::now();
    decltype(stage.run()) out;
    if (done_.count(S::file)) {
      out = stage.read(dir());
    } else {
      out = stage.run();
      write_at(S::name, [&] { stage.write(dir(), out); });
    }
    bool time_it = true;
    if constexpr (requires { S::timed; }) time_it = S::timed;
    if (time_it) seconds_[S::name] = since(start);
    return out;
  }

  // A stage boundary: rank 0 writes, then every rank moves on together. A safe point: a
  // signal stops the run here, every file whole. Nothing happens in memory.
  template <class Write>
  void write_at(const std::string& stage, Write&& write) {
    if (!writer_) return;
    if (ctx_.writer()) write();
    ctx_.comm->barrier();
    maybe_stop_after(round_, stage);
    stop_point(*ctx_.comm, "in round " + std::to_string(round_) + " after " + stage);
  }

  // Times `f` under `name` in seconds().
  template <class F>
  auto timed(const std::string& name, F&& f) {
    const auto start = std::chrono::steady_clock::now();
    auto out = f();
    seconds_[name] = since(start);
    return out;
  }
  nlohmann::json& seconds() { return seconds_; }

  // `write_more` (rank 0) writes what the round has beyond its stages' files (round 0: the
  // weights and the optimizer), then the record becomes the round's state.json and the
  // directory is renamed to round-XXXX: the round is committed. Round 0 (pretraining) and
  // rounds 1..N commit here alike.
  void commit(const nlohmann::json& record,
              const std::function<void(const std::filesystem::path&)>& write_more = {});

 private:
  explicit RoundStore(RunContext& ctx) : ctx_(ctx), round_(-1) {}
  static double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  RunContext& ctx_;
  int round_;
  std::optional<RoundWriter> writer_;
  std::set<std::string> done_;
  nlohmann::json seconds_;
};

// A committed improvement round's state.json as the round table and the curriculum read it:
// BadInput naming the round or the file when the round fails its MANIFEST or the record lacks
// what they need (an empty file, "{}").
nlohmann::json committed_round_record(const RunDir& run, int round);

}  // namespace mg
