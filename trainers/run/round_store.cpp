#include "trainers/run/round_store.h"

#include <filesystem>
#include <functional>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/log.h"
#include "core/run/safetensors.h"
#include "trainers/run/sample_io.h"

namespace mg {

std::set<std::string> usable_stage_files(RunContext& ctx, const RoundWriter& writer) {
  const auto dir = writer.dir();
  using Reader = std::function<void(const std::filesystem::path&)>;
  // In stage order; each reader reads the file as the round will (weights: finite, right shapes).
  const std::vector<std::pair<std::string, Reader>> stages = {
      {"samples.jsonl", [](const auto& p) { read_samples(p); }},
      {"scored.jsonl", [](const auto& p) { read_samples(p); }},
      {"kept.jsonl", [](const auto& p) { read_kept(p); }},
      {"model.safetensors",
       [&](const auto& p) {
         Gpt model = make_model(ctx);
         load_module_state(*model, load_safetensors(p), p.string());
       }},
  };
  std::set<std::string> usable;
  std::vector<std::filesystem::path> discard;
  std::string broken;  // the first stage file that could not be read
  for (const auto& [file, read] : stages) {
    if (!writer.has(file)) continue;
    if (broken.empty()) {
      try {
        read(dir / file);
        usable.insert(file);
        continue;
      } catch (const std::exception& e) {  // mg::Error from the readers, or malformed JSON
        broken = file;
        if (ctx.writer())
          log::warn((dir / file).string() + ": cannot be used (" + e.what() +
                    "); it is discarded with the stages after it, and recomputed");
      }
    }
    discard.push_back(dir / file);
  }
  // Every rank has looked before rank 0 removes anything (and before it writes this round).
  ctx.comm->barrier();
  if (ctx.writer())
    for (const auto& p : discard) {
      std::error_code ec;
      std::filesystem::remove(p, ec);
      if (ec) fail_input(p.string() + ": cannot remove the damaged stage file (" + ec.message() + ")");
    }
  return usable;
}

const std::filesystem::path RoundStore::dir() const {
  check(writer_.has_value(), "RoundStore: a store in memory has no directory");
  return writer_->dir();
}

void RoundStore::commit(const nlohmann::json& record, const std::function<void(const std::filesystem::path&)>& write_more) {
  check(writer_.has_value(), "RoundStore: a store in memory commits nothing");
  write_at("commit", [&] {
    if (write_more) write_more(dir());
    fs::write_file_atomic(dir() / "state.json", record.dump(2));
    writer_->commit();
  });
}

nlohmann::json committed_round_record(const RunDir& run, int round) {
  nlohmann::json record = load_round_state(run, round);
  const auto path = (run.round(round) / "state.json").string();
  if (record.value("kind", "") != "round") fail_input(path + ": not a round record (no \"kind\": \"round\"; damaged?)");
  for (const char* key : {"greedy", "relative_gap", "gap", "kept", "prompts"})
    if (!record.contains(key)) fail_input(path + ": lacks \"" + std::string(key) + "\" (damaged?)");
  if (!record["greedy"].is_object()) fail_input(path + ": \"greedy\" is not an object (damaged?)");
  return record;
}

}  // namespace mg
