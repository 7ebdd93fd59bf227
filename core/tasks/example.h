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

// "<s0>".."<s9>": how much of a candidate is right (9 only for a correct one).
std::string score(int k);
// Every special token, in a fixed order (the tokenizer gives them consecutive ids).
std::vector<std::string> all_specials();
}  // namespace tok

}  // namespace mg
