#pragma once
// What the model trains on and is scored on: text segments with per-token loss weights, and
// the special tokens that appear literally inside that text (each one token after encoding).
#include <string>
#include <vector>

namespace mg {

// A training or scoring sequence as text segments, each with a per-token loss weight.
struct Segment {
  std::string text;
  float weight;
};
using Example = std::vector<Segment>;

namespace tok {
inline constexpr const char* kEnd = "<eoa>";        // ends an answer
inline constexpr const char* kVerify = "<verify>";  // "now judge the candidate before me"
inline constexpr const char* kYes = "<yes>";
inline constexpr const char* kNo = "<no>";
inline constexpr int kScoreLevels = 10;             // score tokens <s0> .. <s9>
// The pairwise format (verify method tournament): "<prompt><first answer><vs><second answer>
// <verify>" then which of the two is right. Only a run that teaches the format has them.
inline constexpr const char* kVersus = "<vs>";
inline constexpr const char* kFirst = "<first>";      // the first is right, the second is not
inline constexpr const char* kSecond = "<second>";    // the second is right, the first is not
inline constexpr const char* kBoth = "<both>";
inline constexpr const char* kNeither = "<neither>";

// "<s0>".."<s9>": how much of a candidate is right (9 only for a correct one).
std::string score(int k);
// Every special token of every run, in a fixed order (the tokenizer gives them consecutive ids).
std::vector<std::string> all_specials();
// The pairwise format's tokens, in a fixed order (ids after all_specials' in a run that has them):
// kVersus, then the verdicts kFirst, kSecond, kBoth, kNeither.
std::vector<std::string> pair_specials();
}  // namespace tok

}  // namespace mg
