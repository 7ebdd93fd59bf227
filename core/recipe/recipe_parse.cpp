// Reading a recipe: YAML text -> overrides applied -> strict visitor over the schema ->
// cross-key checks. The first problem becomes one mg::Error naming the file and the key.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/recipe/recipe.h"
#include "core/recipe/recipe_limits.h"
#include "core/recipe/recipe_schema.h"
#include "core/tasks/rewriting_task.h"
#include "core/tasks/task.h"

namespace mg {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else return "a string";
}

// Reads the schema's fields from a YAML tree, remembering which keys it knew.
class ParseVisitor {
 public:
  ParseVisitor(YAML::Node root, std::string source, std::set<std::string> overridden)
      : node_(root), source_(std::move(source)), overridden_(std::move(overridden)) {}

  void section(const std::string& key, const std::function<void()>& body) {
    known_.push_back(key);
    YAML::Node parent = node_;
    YAML::Node child = parent[key];  // non-const lookup on a copy: absent -> undefined
    std::string saved_path = path_;
    path_ = join(key);
    if (child && !child.IsNull() && !child.IsMap()) fail(path_, "expected a mapping of keys");
    std::vector<std::string> saved_known;
    saved_known.swap(known_);
    // yaml-cpp's operator= writes through the handle; reset() rebinds it.
    node_.reset((child && child.IsMap()) ? child : YAML::Node(YAML::NodeType::Map));
    body();
    check_unknown(node_);
    known_.swap(saved_known);
    node_.reset(parent);
    path_ = saved_path;
  }

  template <class T>
  void field(const std::string& key, T& value, const schema::Check<T>& check, const char* /*meaning*/ = "") {
    known_.push_back(key);
    std::string full = join(key);
    YAML::Node n = node_[key];
    if (!n || n.IsNull()) {
      if (check.required) fail(full, "required key is missing");
      return;
    }
    read(full, n, value);
    if (std::string problem = check(value); !problem.empty()) fail(full, problem);
  }
  template <class T>
  void field(const std::string& key, T& value, const char* meaning = "") {
    field(key, value, schema::Check<T>{}, meaning);
  }

  void check_top_level(const YAML::Node& root) { check_unknown(root); }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    std::string where = overridden_.count(key) ? "command line" : source_;
    fail_input(where + ": " + key + ": " + what);
  }

 private:
  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <class T>
  void read(const std::string& full, const YAML::Node& n, T& value) {
    if (!n.IsScalar()) fail(full, std::string("expected ") + type_name<T>());
    try {
      value = n.as<T>();
    } catch (const YAML::Exception&) {
      fail(full, std::string("expected ") + type_name<T>() + ", got '" + n.Scalar() + "'");
    }
  }
  // An option: its word, one of its table's names, read into the enum here and nowhere else.
  template <NamedOption E>
  void read(const std::string& full, const YAML::Node& n, E& value) {
    std::string word;
    read(full, n, word);
    std::string list;
    for (const auto& [option, name] : names_of(value)) {
      if (name == word) {
        value = option;
        return;
      }
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
    fail(full, "'" + word + "' is not one of: " + list);
  }
  void read(const std::string& full, const YAML::Node& n, Range& value) {
    if (n.IsScalar()) {  // a single value means [v, v]
      int v = 0;
      read(full, n, v);
      value = {v, v};
      return;
    }
    if (!n.IsSequence() || n.size() != 2) fail(full, "expected [low, high]");
    read(full, n[0], value.lo);
    read(full, n[1], value.hi);
  }
  void read(const std::string& full, const YAML::Node& n, std::vector<std::string>& value) {
    if (!n.IsSequence()) fail(full, "expected a list of strings");
    value.clear();
    for (const auto& item : n) {
      std::string s;
      read(full, item, s);
      value.push_back(s);
    }
  }
  void read(const std::string& full, const YAML::Node& n, std::vector<int>& value) {
    if (!n.IsSequence()) fail(full, "expected a list of integers");
    value.clear();
    for (const auto& item : n) {
      int v = 0;
      read(full, item, v);
      value.push_back(v);
    }
  }
  void read(const std::string& full, const YAML::Node& n, std::map<std::string, std::vector<int>>& value) {
    if (!n.IsMap()) fail(full, "expected a mapping like {digits: [4, 5, 6]}");
    value.clear();
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      if (key != "digits" && key != "holes") fail(full + "." + key, "unknown curriculum key (digits | holes)");
      if (!kv.second.IsSequence()) fail(full + "." + key, "expected a list of integers, one per round");
      std::vector<int> values;
      for (const auto& item : kv.second) {
        int v = 0;
        read(full + "." + key, item, v);
        if (v < 0) fail(full + "." + key, "values must be >= 0");
        values.push_back(v);
      }
      value[key] = values;
    }
  }

  void check_unknown(const YAML::Node& map) {
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string best;
      size_t best_d = 1000;
      for (const auto& k : known_) {
        size_t d = edit_distance(key, k);
        if (d < best_d) best_d = d, best = k;
      }
      std::string hint = (best_d <= std::max<size_t>(2, key.size() / 3)) ? " (did you mean '" + join(best) + "'?)" : "";
      fail(join(key), "unknown key" + hint);
    }
  }

  YAML::Node node_;
  std::string source_;
  std::set<std::string> overridden_;
  std::string path_;
  std::vector<std::string> known_;
};

// "a.b.c=value": sets a.b.c in the tree, creating maps on the way; the value is YAML.
std::string apply_override(YAML::Node& root, const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    fail_input("command line: '" + text + "': expected key=value (e.g. improve.rounds=5)");
  std::string key = text.substr(0, eq), raw = text.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(raw);
  } catch (const YAML::Exception& e) {
    fail_input("command line: " + key + ": cannot parse value '" + raw + "'");
  }
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) fail_input("command line: '" + key + "': empty key component");
    parts.push_back(p);
  }
  // yaml-cpp nodes are handles: walk with fresh handles, never reassign one in place.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (next && !next.IsNull() && !next.IsMap())
      fail_input("command line: " + key + ": '" + parts[i] + "' is not a section");
    if (!next || next.IsNull()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
  return key;
}

// The equivalent method's keys against the rewrites the task has (RewritingTask::supports).
void check_rewrites(const Task& task, const VerifyConfig& verify, bool uses_equivalent, ParseVisitor& v) {
  const RewritingTask* rewriter = task.rewriter();
  const std::string name = task.name();
  if (uses_equivalent && rewriter == nullptr)
    v.fail(verify_method(verify.method) == VerifyMethod::Equivalent ? "improve.verify.method" : "improve.verify.ensemble",
           "equivalent needs a task with equivalent prompts; task " + name + " has none");
  const RewriteSupport has = rewriter ? rewriter->supports() : RewriteSupport{0, false, false};
  if (verify.rewrites > std::max(has.rewrites, 1))
    v.fail("improve.verify.rewrites", "task " + name + " has at most " + std::to_string(has.rewrites) +
                                          " rewrite(s) per prompt, not " + std::to_string(verify.rewrites));
  if (verify.shifted > 0 && !has.shifted)
    v.fail("improve.verify.shifted", "task " + name + " has no shifted rewrites");
  if (verify.split > 0 && !has.split) v.fail("improve.verify.split", "task " + name + " has no split rewrites");
}

void cross_checks(const Recipe& r, ParseVisitor& v) {
  if (r.model.d_model % r.model.n_head != 0)
    v.fail("model.n_head", std::to_string(r.model.n_head) + " does not divide model.d_model " +
                               std::to_string(r.model.d_model));
  if (r.model.pos == "rope" && (r.model.d_model / r.model.n_head) % 2 != 0)
    v.fail("model.pos", "rope needs an even head size (d_model / n_head)");
  if (r.improve.pass_k > r.improve.samples_per_prompt)
    v.fail("improve.pass_k", "must not exceed improve.samples_per_prompt (" +
                                 std::to_string(r.improve.samples_per_prompt) + ")");
  // The task says what it has (its difficulty key, its rewrites); the recipe refuses the rest.
  const auto task = make_task(r.task);
  const std::string key = task->difficulty_key();
  const auto& verify = r.improve.verify;
  const bool uses_equivalent = verify_uses(verify, VerifyMethod::Equivalent);
  if (verify_uses(verify, VerifyMethod::Peers) && verify.peers.empty())
    v.fail("improve.verify.peers", "verify method peers needs at least one peer run directory");
  for (const auto& peer : verify.peers)
    if (!peer.empty() && !r.run.dir.empty() &&
        std::filesystem::path(peer).lexically_normal() == std::filesystem::path(r.run.dir).lexically_normal())
      v.fail("improve.verify.peers", "'" + peer + "' is this run's own directory; a peer is another run");
  check_rewrites(*task, verify, uses_equivalent, v);
  if (verify.offset == OffsetBy::Model && verify.shifted == 0)
    v.fail("improve.verify.offset", "model moves shifted rewrites' answers back; it needs improve.verify.shifted > 0");
  const bool falls_back = r.improve.filter.fallback == FilterFallback::Check;
  if (falls_back && filter_method(r.improve.filter.method) != FilterMethod::Threshold)
    v.fail("improve.filter.fallback", "check needs filter.method threshold (the share the check's answer must reach), "
                                      "not '" + r.improve.filter.method + "' (add improve.filter.fallback=none)");
  else if (falls_back && !uses_equivalent)
    v.fail("improve.filter.fallback", "check needs verify method equivalent (or an ensemble with it): only its "
                                      "rewrites give an answer of the check's own (add improve.filter.fallback=none)");
  for (const auto& [name, values] : r.improve.curriculum) {
    if (name != key) v.fail("improve.curriculum." + name, "does not apply to task " + r.task.name + " (use " + key + ")");
    if (values.empty()) v.fail("improve.curriculum." + name, "needs at least one value");
  }
  if (adaptive_curriculum(r)) {
    if (r.improve.curriculum.empty())
      v.fail("improve.advance.kept_share", "needs improve.curriculum (the steps to move through)");
    const auto& f = r.improve.filter.method;
    // Only a filter that refuses samples says how much of a round it trusts: quantile and
    // best_of_n keep a fixed share, reweight and none keep everything.
    if (const FilterMethod m = filter_method(f); m != FilterMethod::Threshold && m != FilterMethod::Oracle)
      v.fail("improve.advance.kept_share", "needs filter.method threshold (or the oracle control); '" + f +
                                               "' keeps a share that does not depend on the answers. Run other "
                                               "arms on the schedule the verified arm took (its rounds' difficulty)");
  }
  if (key == "digits" && r.task.pad_to > 0) {
    int widest = r.task.digits.hi;
    auto it = r.improve.curriculum.find("digits");
    if (it != r.improve.curriculum.end())
      for (int d : it->second) widest = std::max(widest, d);
    if (r.task.pad_to < widest)
      v.fail("task.pad_to", std::to_string(r.task.pad_to) + " is narrower than the widest operand (" +
                                std::to_string(widest) + " digits, task.digits or improve.curriculum)");
  }
  if (key == "holes" && r.task.holes.hi > r.task.size * r.task.size)
    v.fail("task.holes", "more holes than cells in a " + std::to_string(r.task.size) + "x" +
                             std::to_string(r.task.size) + " grid");
}

// The snapshots and the sweep's points against the rest of the recipe.
void sweep_checks(const Recipe& r, ParseVisitor& v) {
  const auto& keep_at = r.pretrain.keep_at;
  if (!keep_at.empty() && keep_at.back() > r.pretrain.steps)
    v.fail("pretrain.keep_at", "step " + std::to_string(keep_at.back()) + " is past pretrain.steps (" +
                                   std::to_string(r.pretrain.steps) + ")");
  if (!keep_at.empty() && r.pretrain.stop_at_greedy <= 1)
    v.fail("pretrain.keep_at", "needs pretrain.stop_at_greedy off (above 1): an early stop would leave later "
                               "snapshots unwritten");
  for (const auto& text : r.sweep.shapes) {
    std::string problem;
    const auto shape = parse_sweep_shape(text, r.model.n_head, &problem);
    if (!shape) v.fail("sweep.shapes", problem);
    if (r.model.pos == "rope" && (shape->d_model / shape->n_head) % 2 != 0)
      v.fail("sweep.shapes", "'" + text + "': rope needs an even head size (d_model / n_head)");
  }
  const auto task = make_task(r.task);
  for (const auto& m : r.sweep.methods)
    if (verify_uses(sweep_method_verify(r.improve.verify, m), VerifyMethod::Equivalent) && task->rewriter() == nullptr)
      v.fail("sweep.methods", "'" + m + "' needs a task with equivalent prompts; task " + task->name() + " has none");
}

// A key of an earlier version, read as the key that replaced it, so that a run directory written
// before the change (its recipe.yaml holds every key) resumes, and its recipes still read:
// improve.filter.adopt (true | false) is improve.filter.fallback (check | none).
void read_replaced_keys(YAML::Node& root, const std::string& source, const std::set<std::string>& overridden) {
  YAML::Node improve = root["improve"];
  if (!improve || !improve.IsMap()) return;
  YAML::Node filter = improve["filter"];
  if (!filter || !filter.IsMap() || !filter["adopt"]) return;
  const std::string old_key = "improve.filter.adopt";
  const std::string where = overridden.count(old_key) ? "command line" : source;
  bool on = false;
  try {
    on = filter["adopt"].as<bool>();
  } catch (const YAML::Exception&) {
    fail_input(where + ": " + old_key + ": expected true or false");
  }
  if (filter["fallback"])
    fail_input(where + ": " + old_key + ": replaced by improve.filter.fallback (check | none); give only that key");
  filter.remove("adopt");
  filter["fallback"] = on ? name_of(FilterFallback::Check) : name_of(FilterFallback::None);
}

}  // namespace

Recipe parse_recipe(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    fail_input(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  if (!root || root.IsNull()) fail_input(source + ": the recipe is empty");
  if (!root.IsMap()) fail_input(source + ": expected a mapping of sections (task, model, ...)");
  std::set<std::string> overridden;
  for (const auto& o : overrides) overridden.insert(apply_override(root, o));
  read_replaced_keys(root, source, overridden);

  Recipe r;
  r.source = source;
  ParseVisitor v(root, source, overridden);
  try {
    schema::visit_recipe(r, v);
    v.check_top_level(root);
  } catch (const YAML::Exception& e) {  // e.g. a key that is not a scalar
    fail_input(source + ": malformed recipe: " + e.msg);
  }
  cross_checks(r, v);
  sweep_checks(r, v);
  // Size rules last: they build the task from the checked keys.
  check_recipe_limits(r);
  return r;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail_input(path + ": is a directory, not a recipe file");
  std::ifstream in(path);
  if (!in) fail_input(path + ": cannot read the recipe file");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail_input(path + ": cannot read the recipe file");
  return parse_recipe(ss.str(), path, overrides);
}

Range difficulty_for_round(const Recipe& recipe, int round) {
  Range base = base_difficulty(recipe.task);
  if (round <= 0) return base;
  auto it = recipe.improve.curriculum.find(difficulty_key(recipe.task));
  if (it == recipe.improve.curriculum.end() || it->second.empty()) return base;
  int v = it->second[std::min<size_t>(round - 1, it->second.size() - 1)];
  return {v, v};
}

std::vector<Range> curriculum_steps(const Recipe& recipe) {
  auto it = recipe.improve.curriculum.find(difficulty_key(recipe.task));
  std::vector<Range> out;
  if (it != recipe.improve.curriculum.end())
    for (int v : it->second) out.push_back({v, v});
  return out;
}

}  // namespace mg
