#include "trainers/interop/hf_export.h"

#include <set>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/log.h"
#include "core/run/safetensors.h"
#include "models/hf_weights.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

nlohmann::json read_json(const stdfs::path& path) {
  if (!fs::exists(path)) fail_input(path.string() + ": not found");
  try {
    return nlohmann::json::parse(fs::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail_input(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

// model.safetensors, or the shards a model.safetensors.index.json names (transformers splits
// large models; a fine-tuned tiny model may still have been saved that way).
NamedTensors read_hf_weights(const stdfs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return load_safetensors(dir / "model.safetensors");
  const auto index = dir / "model.safetensors.index.json";
  if (!fs::exists(index)) {
    if (fs::exists(dir / "pytorch_model.bin"))
      fail_input(dir.string() + ": only pytorch_model.bin (a pickle); save the model with safetensors "
                 "(save_pretrained's default) and import that");
    fail_input(dir.string() + ": no model.safetensors");
  }
  auto j = read_json(index);
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail_input(index.string() + ": no weight_map");
  std::set<std::string> shards;
  for (const auto& [name, file] : j["weight_map"].items()) shards.insert(file.get<std::string>());
  NamedTensors all;
  for (const auto& shard : shards) {
    if (stdfs::path(shard).filename() != shard) fail_input(index.string() + ": shard name '" + shard + "' is a path");
    for (auto& named : load_safetensors(dir / shard)) all.push_back(std::move(named));
  }
  return all;
}

// The model keys of a recipe that the imported weights decide, as overrides.
std::vector<std::string> model_overrides(const GptConfig& c) {
  return {"model.n_layer=" + std::to_string(c.n_layer), "model.n_head=" + std::to_string(c.n_head),
          "model.d_model=" + std::to_string(c.d_model), "model.max_seq=" + std::to_string(c.max_seq),
          "model.pos=" + c.pos};
}

void log_model_changes(const ModelConfig& m, const GptConfig& c, const std::string& recipe) {
  auto note = [&](const char* key, const std::string& was, const std::string& now) {
    if (was != now) log::info(recipe + ": model." + key + " " + was + " -> " + now + " (config.json; the weights decide)");
  };
  note("n_layer", std::to_string(m.n_layer), std::to_string(c.n_layer));
  note("n_head", std::to_string(m.n_head), std::to_string(c.n_head));
  note("d_model", std::to_string(m.d_model), std::to_string(c.d_model));
  note("max_seq", std::to_string(m.max_seq), std::to_string(c.max_seq));
  note("pos", m.pos, c.pos);
}

}  // namespace

void export_hf(const RunContext& ctx, Gpt& model, int round, const stdfs::path& out) {
  const Tokenizer& tok = *ctx.tokenizer;
  HfModel hf = to_hf(model->config(), module_state(*model), tok.end_id(), tok.pad_id());
  stdfs::create_directories(out / "mindgap");
  save_safetensors(out / "model.safetensors", hf.tensors,
                   {{"format", "pt"}, {"mindgap_round", std::to_string(round)}});
  fs::write_file_atomic(out / "config.json", hf.config.dump(2) + "\n");
  const nlohmann::json generation = {{"eos_token_id", tok.end_id()}, {"pad_token_id", tok.pad_id()},
                                     {"bos_token_id", nullptr}, {"do_sample", false}};
  fs::write_file_atomic(out / "generation_config.json", generation.dump(2) + "\n");
  fs::write_file_atomic(out / "tokenizer.json", hf_tokenizer_json(tok).dump(2) + "\n");
  fs::write_file_atomic(out / "tokenizer_config.json",
                        hf_tokenizer_config(tok, model->config().max_seq).dump(2) + "\n");
  fs::write_file_atomic(out / "mindgap" / "tokenizer.model", tok.serialized());
  fs::write_file_atomic(out / "mindgap" / "recipe.yaml", fs::read_file(ctx.run.recipe()));
}

int64_t import_hf(const HfImport& a) {
  const stdfs::path dir = a.hf_dir;
  if (!stdfs::is_directory(dir)) fail_input(a.hf_dir + ": not a directory");
  const GptConfig shape = gpt_config_from_hf(read_json(dir / "config.json"), (dir / "config.json").string());

  const auto sp_path = dir / "mindgap" / "tokenizer.model";
  if (!fs::exists(sp_path))
    fail_input(a.hf_dir + ": no mindgap/tokenizer.model (the SentencePiece model `mindgap export --format hf` "
               "writes): a run needs it to encode its tasks");
  Tokenizer tok = Tokenizer::load(sp_path.string());
  if (tok.vocab_size() != shape.vocab)
    fail_input(a.hf_dir + ": config.json has vocab_size " + std::to_string(shape.vocab) +
               " but mindgap/tokenizer.model has " + std::to_string(tok.vocab_size()) + " tokens");
  if (fs::exists(dir / "tokenizer.json"))
    check_hf_tokenizer_json(read_json(dir / "tokenizer.json"), tok, (dir / "tokenizer.json").string());

  const std::string recipe_path = a.recipe.empty() ? (dir / "mindgap" / "recipe.yaml").string() : a.recipe;
  if (!fs::exists(recipe_path))
    fail_input(recipe_path + ": not found; name the run's recipe with --recipe (its model keys come from config.json)");
  Recipe asked = load_recipe(recipe_path, a.overrides);
  log_model_changes(asked.model, shape, recipe_path);
  std::vector<std::string> overrides = a.overrides;
  for (auto& o : model_overrides(shape)) overrides.push_back(std::move(o));
  if (asked.tokenizer.vocab_size < tok.vocab_size())
    overrides.push_back("tokenizer.vocab_size=" + std::to_string(tok.vocab_size()));
  overrides.push_back("run.dir=" + a.run_dir);
  Recipe recipe = load_recipe(recipe_path, overrides);

  // Every character the task can write must be a token, or the run could not encode its prompts.
  auto task = make_task(recipe.task);
  for (char ch : task->alphabet()) {
    auto ids = tok.encode(std::string(1, ch));
    if (ids.size() != 1 || ids[0] == tok.unk_id())
      fail_input(a.hf_dir + ": the tokenizer has no token for '" + std::string(1, ch) + "', which task " +
                 recipe.task.name + " writes");
  }

  Gpt model(shape);
  load_module_state(*model, from_hf(shape, read_hf_weights(dir), a.hf_dir), a.hf_dir);

  if (fs::exists(stdfs::path(a.run_dir) / "recipe.yaml"))
    fail_input(a.run_dir + ": already a run directory; import creates a new run");
  RunDir run = open_run_dir(recipe);  // refuses a non-empty directory that is not a run
  fs::write_file_atomic(run.tokenizer(), tok.serialized());
  RoundWriter writer(run, 0);
  save_safetensors(writer.dir() / "model.safetensors", module_state(*model), {{"round", "0"}});
  const nlohmann::json state = {{"round", 0},
                                {"step", 0},
                                {"imported", {{"from", stdfs::absolute(dir).lexically_normal().string()},
                                              {"format", "hf"},
                                              {"architecture", hf_architecture(shape.pos)}}},
                                {"parameters", model->num_parameters()}};
  fs::write_file_atomic(writer.dir() / "state.json", state.dump(2));
  writer.commit();
  return model->num_parameters();
}

}  // namespace mg
