#pragma once
// The recipe's named choices: the verify and filter methods, and the options that take one of a
// few words (filter.scope, filter.fallback, verify.combine, verify.offset, distill.init). One
// table of names each, from which the recipe schema's allowed values come, and the enums the
// stages switch on. The recipe parser reads an option's word into its enum once (the options
// are enums in the recipe's structs; names_of finds their table); the methods stay names in the
// recipe, since studies name arms by them ("mc-direct").
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"

namespace mg {

enum class VerifyMethod { Mc, Score, Consistency, Equivalent, Peers, Tournament, Likelihood, SelfCertainty, Ensemble };
enum class FilterMethod { Quantile, BestOfN, Threshold, Reweight, None, Oracle };

template <class E, std::size_t N>
using MethodNames = std::array<std::pair<E, std::string_view>, N>;

// In the order the reference lists them.
inline constexpr MethodNames<VerifyMethod, 9> kVerifyMethods{{{VerifyMethod::Mc, "mc"},
                                                              {VerifyMethod::Score, "score"},
                                                              {VerifyMethod::Consistency, "consistency"},
                                                              {VerifyMethod::Equivalent, "equivalent"},
                                                              {VerifyMethod::Peers, "peers"},
                                                              {VerifyMethod::Tournament, "tournament"},
                                                              {VerifyMethod::Likelihood, "likelihood"},
                                                              {VerifyMethod::SelfCertainty, "self_certainty"},
                                                              {VerifyMethod::Ensemble, "ensemble"}}};
inline constexpr MethodNames<FilterMethod, 6> kFilterMethods{{{FilterMethod::Quantile, "quantile"},
                                                           {FilterMethod::BestOfN, "best_of_n"},
                                                           {FilterMethod::Threshold, "threshold"},
                                                           {FilterMethod::Reweight, "reweight"},
                                                           {FilterMethod::None, "none"},
                                                           {FilterMethod::Oracle, "oracle"}}};

// The names of `table`, in order, leaving out `except` (ensemble does not combine itself).
template <class E, std::size_t N>
std::vector<std::string> method_names(const MethodNames<E, N>& table, std::vector<E> except = {}) {
  std::vector<std::string> out;
  for (const auto& [method, name] : table)
    if (std::find(except.begin(), except.end(), method) == except.end()) out.emplace_back(name);
  return out;
}

template <class E, std::size_t N>
std::string method_name(const MethodNames<E, N>& table, E method) {
  for (const auto& [m, name] : table)
    if (m == method) return std::string(name);
  fail_internal("a method with no name");
}

// The method called `name`; BadInput naming `key` for a name not in the list (a recipe is
// checked against the list when it is read, so this is for callers that bypass it).
template <class E, std::size_t N>
E method_of(const MethodNames<E, N>& table, std::string_view name, std::string_view key) {
  for (const auto& [method, n] : table)
    if (n == name) return method;
  fail_input(std::string(key) + ": unknown method '" + std::string(name) + "'");
}

inline VerifyMethod verify_method(std::string_view name) {
  return method_of(kVerifyMethods, name, "verify.method");
}
inline FilterMethod filter_method(std::string_view name) {
  return method_of(kFilterMethods, name, "filter.method");
}
inline std::string name_of(VerifyMethod m) { return method_name(kVerifyMethods, m); }
inline std::string name_of(FilterMethod m) { return method_name(kFilterMethods, m); }

// The options: each recipe struct holds the enum, recipe.yaml the word.
enum class FilterScope { PerPrompt, Global };
enum class FilterFallback { None, Check };  // what a prompt with nothing kept trains on
enum class CombineBy { Mean, And };
enum class OffsetBy { Exact, Model };
enum class DistillInit { Previous, Base };

inline constexpr MethodNames<FilterScope, 2> kFilterScopes{
    {{FilterScope::PerPrompt, "per_prompt"}, {FilterScope::Global, "global"}}};
inline constexpr MethodNames<FilterFallback, 2> kFilterFallbacks{
    {{FilterFallback::None, "none"}, {FilterFallback::Check, "check"}}};
inline constexpr MethodNames<CombineBy, 2> kCombineBy{{{CombineBy::Mean, "mean"}, {CombineBy::And, "and"}}};
inline constexpr MethodNames<OffsetBy, 2> kOffsetBy{{{OffsetBy::Exact, "exact"}, {OffsetBy::Model, "model"}}};
inline constexpr MethodNames<DistillInit, 2> kDistillInits{
    {{DistillInit::Previous, "previous"}, {DistillInit::Base, "base"}}};

// The table of an option's enum, for the schema's visitors (found by argument-dependent lookup).
constexpr const auto& names_of(FilterScope) { return kFilterScopes; }
constexpr const auto& names_of(FilterFallback) { return kFilterFallbacks; }
constexpr const auto& names_of(CombineBy) { return kCombineBy; }
constexpr const auto& names_of(OffsetBy) { return kOffsetBy; }
constexpr const auto& names_of(DistillInit) { return kDistillInits; }

// An option of the recipe that is one of a few words.
template <class E>
concept NamedOption = std::is_enum_v<E> && requires { names_of(E{}); };

template <NamedOption E>
std::string name_of(E option) {
  return method_name(names_of(option), option);
}

// The control arms of a study (`none`, `oracle`) train without trusting the verifier.
inline bool is_control_arm(FilterMethod m) { return m == FilterMethod::None || m == FilterMethod::Oracle; }

}  // namespace mg
