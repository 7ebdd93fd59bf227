#include "core/tasks/sudoku.h"

#include <numeric>

#include "core/errors.h"
#include "core/tasks/arithmetic_task.h"
#include "core/tasks/rng.h"

namespace mg::tasks {

namespace {
constexpr char kHole = '.';
constexpr char kSeparator = '=';
}  // namespace

SudokuTask::SudokuTask(int size) : n_(size), box_(size == 4 ? 2 : 3) {
  if (size != 4 && size != 9) fail_input("sudoku: size must be 4 or 9, got " + std::to_string(size));
}

std::string SudokuTask::alphabet() const {
  std::string s;
  for (int d = 1; d <= n_; ++d) s.push_back(static_cast<char>('0' + d));
  return s + kHole + kSeparator;
}

std::string SudokuTask::solved_grid(uint64_t seed) const {
  Rng rng(seed);
  // Row/column order: bands (or stacks) shuffled, then the lines within each.
  auto line_order = [&]() {
    std::vector<int> bands(box_), order;
    std::iota(bands.begin(), bands.end(), 0);
    shuffle(bands.begin(), bands.end(), rng);
    for (int band : bands) {
      std::vector<int> lines(box_);
      std::iota(lines.begin(), lines.end(), band * box_);
      shuffle(lines.begin(), lines.end(), rng);
      order.insert(order.end(), lines.begin(), lines.end());
    }
    return order;
  };
  std::vector<int> rows = line_order(), cols = line_order(), digits(n_);
  std::iota(digits.begin(), digits.end(), 1);
  shuffle(digits.begin(), digits.end(), rng);
  bool transpose = rng.uniform(0, 1) == 1;
  std::string grid(static_cast<size_t>(cells()), '0');
  for (int r = 0; r < n_; ++r) {
    for (int c = 0; c < n_; ++c) {
      int br = transpose ? cols[c] : rows[r], bc = transpose ? rows[r] : cols[c];
      // The base pattern: row br is row 0 shifted by box_*(br % box_) + br / box_, which makes
      // every row, column and box a permutation.
      int v = (box_ * (br % box_) + br / box_ + bc) % n_;
      grid[static_cast<size_t>(r * n_ + c)] = static_cast<char>('0' + digits[v]);
    }
  }
  return grid;
}

Problem SudokuTask::generate(uint64_t seed, uint64_t index, Range difficulty) const {
  if (difficulty.lo < 0 || difficulty.hi < difficulty.lo || difficulty.hi > cells())
    fail_input("sudoku: holes range [" + std::to_string(difficulty.lo) + ", " +
               std::to_string(difficulty.hi) + "] must satisfy 0 <= lo <= hi <= " +
               std::to_string(cells()));
  Rng rng(problem_seed({seed, index}));
  Problem p;
  p.answer = solved_grid(rng.next());
  int holes = rng.uniform(difficulty.lo, difficulty.hi);
  std::vector<int> positions(static_cast<size_t>(cells()));
  std::iota(positions.begin(), positions.end(), 0);
  shuffle(positions.begin(), positions.end(), rng);
  p.prompt = p.answer;
  for (int i = 0; i < holes; ++i) p.prompt[static_cast<size_t>(positions[i])] = kHole;
  p.prompt.push_back(kSeparator);
  return p;
}

bool SudokuTask::prompt_ok(const std::string& prompt) const {
  if (static_cast<int>(prompt.size()) != cells() + 1 || prompt.back() != kSeparator) return false;
  for (int i = 0; i < cells(); ++i) {
    char c = prompt[static_cast<size_t>(i)];
    if (c != kHole && (c < '1' || c > '0' + n_)) return false;
  }
  return true;
}

bool SudokuTask::is_solved(const std::string& grid) const {
  if (static_cast<int>(grid.size()) != cells()) return false;
  for (char c : grid)
    if (c < '1' || c > '0' + n_) return false;
  auto at = [&](int r, int c) { return grid[static_cast<size_t>(r * n_ + c)] - '1'; };
  for (int i = 0; i < n_; ++i) {
    unsigned row = 0, col = 0, box = 0;
    int r0 = (i / box_) * box_, c0 = (i % box_) * box_;
    for (int j = 0; j < n_; ++j) {
      row |= 1u << at(i, j);
      col |= 1u << at(j, i);
      box |= 1u << at(r0 + j / box_, c0 + j % box_);
    }
    unsigned all = (1u << n_) - 1;
    if (row != all || col != all || box != all) return false;
  }
  return true;
}

bool SudokuTask::grade(const std::string& prompt, const std::string& answer) const {
  if (!prompt_ok(prompt)) return false;
  std::string grid = strip_end_marker(answer);
  if (static_cast<int>(grid.size()) != cells()) return false;
  for (int i = 0; i < cells(); ++i) {
    char given = prompt[static_cast<size_t>(i)];
    if (given != kHole && grid[static_cast<size_t>(i)] != given) return false;
  }
  return is_solved(grid);
}

std::string SudokuTask::wrong_answer(const Problem& p, uint64_t seed) const {
  Rng rng(problem_seed({seed, stable_hash(p.prompt), stable_hash(p.answer)}));
  std::vector<size_t> holes;
  for (size_t i = 0; i < p.prompt.size() && i < p.answer.size(); ++i)
    if (p.prompt[i] == kHole) holes.push_back(i);
  auto other_digit = [&](char c) {
    int d = (c >= '1' && c <= '0' + n_) ? c - '1' : 0;
    return static_cast<char>('1' + (d + rng.uniform(1, n_ - 1)) % n_);
  };
  if (static_cast<int>(p.answer.size()) == cells()) {
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::string t = p.answer;
      int kind = holes.empty() ? 3 : rng.uniform(0, 3);
      if (kind <= 1) {  // a hole filled with the wrong digit (a duplicate in its row)
        size_t i = holes[static_cast<size_t>(rng.uniform(0, static_cast<int>(holes.size()) - 1))];
        t[i] = other_digit(t[i]);
      } else if (kind == 2 && holes.size() >= 2) {  // two holes' digits swapped
        size_t i = holes[static_cast<size_t>(rng.uniform(0, static_cast<int>(holes.size()) - 1))];
        size_t j = holes[static_cast<size_t>(rng.uniform(0, static_cast<int>(holes.size()) - 1))];
        std::swap(t[i], t[j]);
      } else {  // a given overwritten
        size_t i = static_cast<size_t>(rng.uniform(0, cells() - 1));
        t[i] = other_digit(t[i]);
      }
      if (!grade(p.prompt, t)) return t;
    }
  }
  // Always wrong: a duplicate in the first row (or, for a malformed p, the wrong length).
  std::string t = p.answer;
  if (static_cast<int>(t.size()) != cells()) return std::string(static_cast<size_t>(cells()), '1');
  t[0] = t[1];
  return t;
}

}  // namespace mg::tasks
