#pragma once
// Sudoku, 4x4 (2x2 boxes) or 9x9 (3x3 boxes); the difficulty is the number of holes.
// Prompt: the grid row-major, '.' for a hole, then '=' ("12.4..13....2..1="); answer: the
// full grid ("1234341243212143"). A solved grid comes from shuffling a base pattern (digits,
// rows within bands, bands, the same for columns, a transpose), then cells are blanked.
// Any valid completion counts: givens kept, every row, column and box a permutation.
#include <string>
#include <vector>

#include "core/tasks/task.h"

namespace mg::tasks {

class SudokuTask final : public Task {
 public:
  explicit SudokuTask(int size);  // BadInput unless 4 or 9

  std::string name() const override { return "sudoku"; }
  Problem generate(uint64_t seed, uint64_t index, Range difficulty) const override;
  bool grade(const std::string& prompt, const std::string& answer) const override;
  std::string wrong_answer(const Problem& p, uint64_t seed) const override;
  int max_chars(Range difficulty) const override { return 2 * cells() + 1; }
  std::string alphabet() const override;
  std::string difficulty_key() const override { return "holes"; }

  int size() const { return n_; }
  // True iff `grid` (n*n chars '1'..'n') has every row, column and box a permutation.
  bool is_solved(const std::string& grid) const;

 private:
  int cells() const { return n_ * n_; }
  std::string solved_grid(uint64_t seed) const;
  bool prompt_ok(const std::string& prompt) const;
  int n_;    // side
  int box_;  // box side (2 or 3)
};

}  // namespace mg::tasks
