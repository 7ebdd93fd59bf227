#include "core/tasks/example.h"

#include "core/errors.h"

namespace mg::tok {

std::string score(int k) {
  check(k >= 0 && k < kScoreLevels, "score token index " + std::to_string(k) + " outside 0..9");
  return "<s" + std::to_string(k) + ">";
}

std::vector<std::string> all_specials() {
  std::vector<std::string> out = {kEnd, kVerify, kYes, kNo};
  for (int k = 0; k < kScoreLevels; ++k) out.push_back(score(k));
  return out;
}

std::vector<std::string> pair_specials() { return {kVersus, kFirst, kSecond, kBoth, kNeither}; }

}  // namespace mg::tok
