// Writing a recipe back out (the run directory's recipe.yaml) and comparing two recipes,
// both as visitors over the one schema.
#include <yaml-cpp/yaml.h>

#include <iomanip>
#include <set>
#include <sstream>

#include "core/recipe/recipe.h"
#include "core/recipe/recipe_schema.h"
#include "core/recipe/value_words.h"

namespace mg {
namespace {

std::string number_text(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  std::string s = os.str();
  // Keep it a float for YAML readers (1 -> 1.0) while staying exact.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

template <class T>
std::string scalar_text(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
  else if constexpr (std::is_floating_point_v<T>) return number_text(v);
  else if constexpr (std::is_arithmetic_v<T>) return std::to_string(v);
  else return v;
}

class EmitVisitor {
 public:
  explicit EmitVisitor(YAML::Emitter& out) : out_(out) {}
  void section(const std::string& key, const std::function<void()>& body) {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    body();
    out_ << YAML::EndMap;
  }
  template <class T, class... CheckAndMeaning>
  void field(const std::string& key, T& value, const CheckAndMeaning&...) {
    out_ << YAML::Key << key << YAML::Value;
    write(value);
  }

 private:
  template <class T>
  void write(const T& v) {
    if constexpr (NamedOption<T>) out_ << YAML::DoubleQuoted << name_of(v);  // as a string key was
    else if constexpr (std::is_same_v<T, std::string>) out_ << YAML::DoubleQuoted << v;
    else out_ << scalar_text(v);
  }
  void write(const Range& r) { out_ << YAML::Flow << YAML::BeginSeq << r.lo << r.hi << YAML::EndSeq; }
  void write(const std::vector<std::string>& v) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << s;
    out_ << YAML::EndSeq;
  }
  void write(const std::vector<int>& v) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (int x : v) out_ << x;
    out_ << YAML::EndSeq;
  }
  void write(const std::map<std::string, std::vector<int>>& m) {
    out_ << YAML::Flow << YAML::BeginMap;
    for (const auto& [k, vs] : m) {
      out_ << YAML::Key << k << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (int x : vs) out_ << x;
      out_ << YAML::EndSeq;
    }
    out_ << YAML::EndMap;
  }
  YAML::Emitter& out_;
};

class FlattenVisitor {
 public:
  std::map<std::string, std::string> flat;
  void section(const std::string& key, const std::function<void()>& body) {
    std::string saved = prefix_;
    prefix_ += key + ".";
    body();
    prefix_ = saved;
  }
  // The reference's words: the texts are only compared, never written out.
  template <class T, class... CheckAndMeaning>
  void field(const std::string& key, T& value, const CheckAndMeaning&...) {
    flat[prefix_ + key] = schema::value_words(value);
  }

 private:
  std::string prefix_;
};

}  // namespace

std::string recipe_to_yaml(const Recipe& recipe) {
  Recipe copy = recipe;
  YAML::Emitter out;
  out << YAML::BeginMap;
  EmitVisitor v(out);
  schema::visit_recipe(copy, v);
  out << YAML::EndMap;
  return std::string("# resolved recipe (defaults filled in, overrides applied)\n") + out.c_str() + "\n";
}

std::map<std::string, std::string> flatten_recipe(const Recipe& recipe) {
  Recipe copy = recipe;
  FlattenVisitor v;
  schema::visit_recipe(copy, v);
  return v.flat;
}

std::vector<std::string> result_changing_differences(const Recipe& a, const Recipe& b) {
  // Keys that may change between a run and its resume without changing what is computed.
  // The overlap changes only the order in which buckets travel: the sums are the same up to
  // float rounding, like a change of run.threads.
  static const std::set<std::string> free_keys = {"run.dir", "run.threads", "run.dist_timeout_s",
                                                  "run.overlap_grad_sync", "improve.rounds",
                                                  "improve.stop_when_relative_gap_below",
                                                  // Guards that only decide whether to go on.
                                                  "improve.distill.max_loss_ratio", "run.nonfinite",
                                                  // A sweep's list of points; each shape's run
                                                  // checks its own pretraining keys.
                                                  "sweep.shapes", "sweep.at_steps"};
  auto fa = flatten_recipe(a), fb = flatten_recipe(b);
  std::vector<std::string> diff;
  for (const auto& [k, v] : fa)
    if (!free_keys.count(k) && fb[k] != v) diff.push_back(k);
  return diff;
}

}  // namespace mg
