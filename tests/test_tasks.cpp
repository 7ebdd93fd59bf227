// Tasks: factory, exact graders on hand-written cases (malformed output included), generator
// determinism and ranges, wrong answers that are never correct.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/errors.h"
#include "core/tasks/arithmetic_task.h"
#include "core/tasks/decimal.h"
#include "core/tasks/rng.h"
#include "core/tasks/sudoku.h"
#include "core/tasks/task.h"
#include "trainers/run/seeds.h"

namespace {

std::unique_ptr<mg::Task> task(const std::string& name, bool reverse = true, int size = 4) {
  mg::TaskConfig c;
  c.name = name;
  c.reverse_answer = reverse;
  c.size = size;
  return mg::make_task(c);
}

mg::ErrorKind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const mg::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no mg::Error thrown";
  return mg::ErrorKind::Internal;
}

// Output a model might produce that no grader may accept.
const std::vector<std::string> kGarbage = {
    "", "<eoa>", "<yes>", "<verify>", "abc", " ", "\n", "-1", "+", "=", "...", "<s9>",
    std::string(5000, '7'), std::string("\0\0", 2), "\xff\xfe"};

// Addition as it is written ("62+5=") or least significant digit first, padded to 6 digits.
std::unique_ptr<mg::Task> addition_padded(bool padded) {
  mg::TaskConfig c;
  c.name = "addition";
  c.reverse_operands = padded;
  c.pad_to = padded ? 6 : 0;
  return mg::make_task(c);
}

// The two operands of an addition prompt in that layout, most significant digit first,
// without padding zeros.
std::pair<std::string, std::string> addition_operands(const std::string& prompt, bool padded) {
  size_t at = prompt.find('+');
  std::string a = prompt.substr(0, at), b = prompt.substr(at + 1, prompt.size() - at - 2);
  if (padded) {
    std::reverse(a.begin(), a.end());
    std::reverse(b.begin(), b.end());
  }
  return std::make_pair(mg::tasks::decimal::strip_zeros(a), mg::tasks::decimal::strip_zeros(b));
}

TEST(TaskFactory, KnownNamesAndBadInput) {
  EXPECT_EQ(task("addition")->name(), "addition");
  EXPECT_EQ(task("multiplication")->name(), "multiplication");
  EXPECT_EQ(task("sudoku")->name(), "sudoku");
  EXPECT_EQ(task("sudoku", true, 9)->name(), "sudoku");
  EXPECT_EQ(error_kind([] { task("subtraction"); }), mg::ErrorKind::BadInput);
  EXPECT_EQ(error_kind([] { task("sudoku", true, 5); }), mg::ErrorKind::BadInput);
}

TEST(Addition, GradesHandWrittenCases) {
  auto t = task("addition");
  EXPECT_TRUE(t->grade("62+85=", "741"));       // 147 reversed, width 3
  EXPECT_TRUE(t->grade("62+85=", "741<eoa>"));  // one end marker tolerated
  EXPECT_TRUE(t->grade("1+2=", "30"));          // 3 padded to 2 digits: "03" reversed
  EXPECT_TRUE(t->grade("99+1=", "001"));        // 100
  EXPECT_TRUE(t->grade("0+0=", "00"));
  EXPECT_TRUE(t->grade("999+999=", "8991"));    // 1998
  EXPECT_FALSE(t->grade("62+85=", "147"));      // not reversed
  EXPECT_FALSE(t->grade("62+85=", "74"));       // padding missing
  EXPECT_FALSE(t->grade("62+85=", "7410"));     // too long
  EXPECT_FALSE(t->grade("62+85=", "751"));
  EXPECT_FALSE(t->grade("62+85=", "741<eoa><eoa>"));
  EXPECT_FALSE(t->grade("62+85=", "741 "));
  EXPECT_FALSE(t->grade("1+2=", "3"));
  for (const auto& g : kGarbage) EXPECT_FALSE(t->grade("62+85=", g)) << g;
  // Malformed prompts never grade true.
  for (const std::string p : {"", "62+85", "+85=", "62+=", "6a+85=", "62*85=", "62+85==", "=",
                              "62+85=741", "<verify>"})
    EXPECT_FALSE(t->grade(p, "741")) << p;
}

TEST(Addition, PlainAnswersWithoutReverse) {
  auto t = task("addition", false);
  EXPECT_TRUE(t->grade("62+85=", "147"));
  EXPECT_TRUE(t->grade("1+2=", "3"));
  EXPECT_FALSE(t->grade("62+85=", "741"));
  EXPECT_FALSE(t->grade("62+85=", "0147"));
  EXPECT_FALSE(t->grade("1+2=", "03"));
  auto p = t->generate(3, 4, {3, 3});
  EXPECT_TRUE(t->grade(p.prompt, p.answer));
  EXPECT_NE(p.answer[0], '0');
}

TEST(Multiplication, GradesHandWrittenCases) {
  auto t = task("multiplication");
  EXPECT_TRUE(t->grade("12*34=", "8040"));  // 408 padded to 4 digits, reversed
  EXPECT_TRUE(t->grade("9*9=", "18"));
  EXPECT_TRUE(t->grade("0*7=", "00"));
  EXPECT_TRUE(t->grade("99*99=", "1089"));  // 9801
  EXPECT_TRUE(t->grade("123*4567=", "1471650"));  // 561741 -> "0561741" reversed
  EXPECT_FALSE(t->grade("12*34=", "804"));
  EXPECT_FALSE(t->grade("12*34=", "0408"));
  EXPECT_FALSE(t->grade("12+34=", "8040"));
  for (const auto& g : kGarbage) EXPECT_FALSE(t->grade("12*34=", g)) << g;
  auto plain = task("multiplication", false);
  EXPECT_TRUE(plain->grade("12*34=", "408"));
  EXPECT_FALSE(plain->grade("12*34=", "8040"));
}

TEST(Sudoku, GradesHandWrittenCases) {
  auto t = task("sudoku");
  const std::string solution = "1234341221434321";
  EXPECT_TRUE(t->grade("12.434.2.1434321=", solution));
  EXPECT_TRUE(t->grade("12.434.2.1434321=", solution + "<eoa>"));
  // Any valid completion counts: with every cell a hole, any solved grid is right.
  std::string empty(16, '.');
  empty += '=';
  EXPECT_TRUE(t->grade(empty, solution));
  EXPECT_TRUE(t->grade(empty, "2143341212344321"));
  EXPECT_TRUE(t->grade(empty, "1234341243212143"));
  EXPECT_FALSE(t->grade(empty, "1234123412341234"));  // columns repeat
  EXPECT_FALSE(t->grade(empty, "1234214334124321"));  // rows and columns fine, boxes not
  EXPECT_FALSE(t->grade("22.434.2.1434321=", solution));  // a given not kept
  EXPECT_FALSE(t->grade("12.434.2.1434321=", "1234341221434312"));  // last row broken
  EXPECT_FALSE(t->grade("12.434.2.1434321=", solution.substr(0, 15)));
  EXPECT_FALSE(t->grade("12.434.2.1434321=", solution + "1"));
  EXPECT_FALSE(t->grade("12.434.2.1434321=", "1234341221434320"));
  EXPECT_FALSE(t->grade("12.434.2.1434321=", "1234341221434325"));
  for (const auto& g : kGarbage) EXPECT_FALSE(t->grade("12.434.2.1434321=", g)) << g;
  for (const std::string p : {"", "12.434.2.1434321", "12.434.2.1434321==", "12.434.2.14343215=",
                              "12.434.2.1434321.", "12x434.2.1434321="})
    EXPECT_FALSE(t->grade(p, solution)) << p;
  // A 9x9 grid is not a 4x4 answer.
  auto t9 = task("sudoku", true, 9);
  EXPECT_FALSE(t9->grade("12.434.2.1434321=", solution));
}

TEST(Generators, DeterministicInSeedAndIndex) {
  for (auto name : {"addition", "multiplication", "sudoku"}) {
    auto t = task(name);
    mg::Range d = std::string(name) == "sudoku" ? mg::Range{4, 8} : mg::Range{1, 4};
    std::set<std::string> prompts;
    for (uint64_t i = 0; i < 200; ++i) {
      auto a = t->generate(7, i, d);
      auto b = task(name)->generate(7, i, d);  // another instance, another call order
      EXPECT_EQ(a.prompt, b.prompt);
      EXPECT_EQ(a.answer, b.answer);
      prompts.insert(a.prompt);
    }
    EXPECT_GT(prompts.size(), 150u) << name;  // indices give different problems
    EXPECT_NE(t->generate(7, 0, d).prompt + t->generate(7, 1, d).prompt,
              t->generate(8, 0, d).prompt + t->generate(8, 1, d).prompt);
  }
}

// Operands least significant digit first, zero-padded to a fixed width: every problem has
// one layout, whatever its number of significant digits.
TEST(Generators, PaddedReversedOperands) {
  for (auto name : {"addition", "multiplication"}) {
    mg::TaskConfig c;
    c.name = name;
    c.reverse_operands = true;
    c.pad_to = 6;
    auto t = mg::make_task(c);
    const char op = std::string(name) == "addition" ? '+' : '*';
    std::set<size_t> sizes;
    for (uint64_t i = 0; i < 500; ++i) {
      auto p = t->generate(3, i, {1, 4});
      sizes.insert(p.prompt.size() + p.answer.size());
      ASSERT_EQ(p.prompt.find(op), 6u) << p.prompt;
      ASSERT_TRUE(t->grade(p.prompt, p.answer)) << p.prompt << p.answer;
      // Digits 5 and 6 (the last two written) are padding: the numbers have at most 4 digits.
      EXPECT_EQ(p.prompt.substr(4, 2), "00") << p.prompt;
      std::string wrong = t->wrong_answer(p, 11);
      EXPECT_FALSE(t->grade(p.prompt, wrong)) << p.prompt << wrong;
      EXPECT_EQ(wrong.size(), p.answer.size()) << p.prompt << wrong;
    }
    EXPECT_EQ(sizes, (std::set<size_t>{static_cast<size_t>(t->max_chars({1, 4}))})) << name;
  }
  mg::TaskConfig c;
  c.name = "addition";
  c.reverse_operands = true;
  c.pad_to = 4;
  auto t = mg::make_task(c);
  EXPECT_TRUE(t->grade("2600+5800=", "74100"));  // 62 + 85 = 147, every part reversed
  EXPECT_TRUE(t->grade("9900+1000=", "00100"));  // 99 + 1 = 100
  EXPECT_FALSE(t->grade("2600+5800=", "75100"));
  EXPECT_FALSE(t->grade("2600+5800=", "741"));   // the answer is as wide as the operands + 1
}

// The `equivalent` verify method's rewrite: same correct answer, operands swapped as written.
TEST(EquivalentPrompts, OperandsSwapAndTheAnswerStays) {
  for (auto name : {"addition", "multiplication"})
    for (bool padded : {false, true}) {
      mg::TaskConfig c;
      c.name = name;
      c.reverse_operands = padded;
      c.pad_to = padded ? 5 : 0;
      auto t = mg::make_task(c);
      for (uint64_t i = 0; i < 300; ++i) {
        auto p = t->generate(5, i, {1, 4});
        auto q = t->rewriter()->equivalent_prompt(p.prompt, 0);
        ASSERT_TRUE(q.has_value()) << p.prompt;
        EXPECT_EQ(q->size(), p.prompt.size()) << p.prompt;
        EXPECT_TRUE(t->grade(*q, p.answer)) << p.prompt << " -> " << *q;
        EXPECT_EQ(t->rewriter()->equivalent_prompt(*q, 0), p.prompt);  // swapping twice gives the prompt back
      }
    }
  auto add = task("addition");
  EXPECT_EQ(add->rewriter()->equivalent_prompt("62+5=", 0), "5+62=");
  for (const auto& g : kGarbage) EXPECT_FALSE(add->rewriter()->equivalent_prompt(g, 0).has_value()) << g;
  EXPECT_FALSE(add->rewriter()->equivalent_prompt("62*5=", 0).has_value());
  auto sudoku = task("sudoku");
  EXPECT_EQ(sudoku->rewriter(), nullptr);  // no rewrites
}

// Further rewrites of an addition: other splits of the same sum, each operand keeping its
// number of significant digits (and its written width), so the problem stays as hard.
TEST(EquivalentPrompts, AdditionResplitsKeepTheSumAndTheLengths) {
  for (bool padded : {false, true}) {
    auto t = addition_padded(padded);
    auto operands = [&](const std::string& prompt) { return addition_operands(prompt, padded); };
    int changed = 0, total = 0, long_ones = 0, varied = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      auto p = t->generate(9, i, {1, 5});
      auto [a, b] = operands(p.prompt);
      std::set<std::string> seen;
      for (int k = 1; k <= 6; ++k) {
        auto q = t->rewriter()->equivalent_prompt(p.prompt, k);
        ASSERT_TRUE(q.has_value()) << p.prompt;
        EXPECT_EQ(q, t->rewriter()->equivalent_prompt(p.prompt, k)) << "not deterministic";
        EXPECT_EQ(q->size(), p.prompt.size()) << p.prompt << " -> " << *q;
        EXPECT_TRUE(t->grade(*q, p.answer)) << p.prompt << " -> " << *q;
        auto [a2, b2] = operands(*q);
        EXPECT_EQ(a2.size(), a.size()) << p.prompt << " -> " << *q;
        EXPECT_EQ(b2.size(), b.size()) << p.prompt << " -> " << *q;
        seen.insert(*q);
        changed += *q != p.prompt;
        ++total;
      }
      // Operands of 3+ digits mostly have many splits (not 100+100): six draws vary.
      if (a.size() >= 3 && b.size() >= 3) {
        ++long_ones;
        varied += seen.size() >= 2;
      }
    }
    EXPECT_GE(changed, total * 8 / 10);
    EXPECT_GE(varied, long_ones * 9 / 10);
  }
  auto add = task("addition");
  EXPECT_EQ(add->rewriter()->equivalent_prompt("9+9=", 1), "9+9=");      // the only split with one digit each
  EXPECT_EQ(add->rewriter()->equivalent_prompt("99+99=", 3), "99+99=");  // 198 with two 2-digit operands
  auto q = add->rewriter()->equivalent_prompt("99+1=", 2);                // 100 = 91+9 ... 99+1
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->size() == 5 && q->substr(0, 2) >= "91" && add->grade(*q, "001")) << *q;
  EXPECT_FALSE(add->rewriter()->equivalent_prompt("62+5=", -1).has_value());
  for (const auto& g : kGarbage) EXPECT_FALSE(add->rewriter()->equivalent_prompt(g, 2).has_value()) << g;
  // Multiplication has only its swap.
  EXPECT_TRUE(task("multiplication")->rewriter()->equivalent_prompt("12*34=", 0).has_value());
  EXPECT_FALSE(task("multiplication")->rewriter()->equivalent_prompt("12*34=", 1).has_value());
}

// Shifted rewrites of an addition: the leading digit of each operand lowered, then the smaller
// sum split another way (lengths and written widths kept), the offset being what was taken
// off; shift_answer moves an answer to the rewrite back to the original. They carry into a
// new digit far less often, and their lower digits vary.
TEST(ShiftedPrompts, AdditionLowersTheLeadingDigitsByAKnownOffset) {
  namespace dec = mg::tasks::decimal;
  for (bool padded : {false, true}) {
    auto t = addition_padded(padded);
    auto operands = [&](const std::string& prompt) { return addition_operands(prompt, padded); };
    int carries = 0, shifted_carries = 0, long_ones = 0, varied = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      auto p = t->generate(4, i, {1, 5});
      auto [a, b] = operands(p.prompt);
      const size_t longest = std::max(a.size(), b.size());
      for (int k = 0; k < 6; ++k) {
        auto q = t->rewriter()->shifted_prompt(p.prompt, k);
        ASSERT_TRUE(q.has_value()) << p.prompt;
        EXPECT_EQ(q->prompt, t->rewriter()->shifted_prompt(p.prompt, k)->prompt) << "not deterministic";
        EXPECT_EQ(q->prompt.size(), p.prompt.size()) << p.prompt << " -> " << q->prompt;
        auto [a2, b2] = operands(q->prompt);
        ASSERT_EQ(a2.size(), a.size()) << p.prompt << " -> " << q->prompt;
        ASSERT_EQ(b2.size(), b.size()) << p.prompt << " -> " << q->prompt;
        EXPECT_EQ(dec::add(dec::add(a2, b2), q->offset), dec::add(a, b)) << p.prompt << " -> " << q->prompt;
        // What was taken off comes from the leading digits only: the digits below the
        // shorter operand's leading one are zero, and it is at most the two leading digits.
        const size_t low = std::min(a.size(), b.size()) - 1;
        EXPECT_TRUE(q->offset == "0" || (q->offset.size() > low &&
                                         q->offset.substr(q->offset.size() - low) == std::string(low, '0')))
            << p.prompt << " -> " << q->prompt << " offset " << q->offset;
        const std::string tops = dec::add(a.substr(0, 1) + std::string(a.size() - 1, '0'),
                                          b.substr(0, 1) + std::string(b.size() - 1, '0'));
        EXPECT_LE(dec::compare(q->offset, tops), 0) << p.prompt << " offset " << q->offset;
        if (a.size() >= 3 && b.size() >= 3) {
          ++long_ones;
          varied += a2.substr(1) != a.substr(1);
        }
        // The rewrite's right answer, moved back, is the original's right answer; a wrong one
        // stays wrong.
        auto right = dec::format_answer(dec::add(a2, b2), static_cast<int>(p.answer.size()), true);
        ASSERT_TRUE(right && t->grade(q->prompt, *right)) << q->prompt;
        EXPECT_EQ(t->rewriter()->shift_answer(p.prompt, *right, q->offset), p.answer) << p.prompt << " -> " << q->prompt;
        auto wrong = t->wrong_answer({q->prompt, *right}, 3);
        auto moved = t->rewriter()->shift_answer(p.prompt, wrong, q->offset);
        EXPECT_FALSE(moved && t->grade(p.prompt, *moved)) << q->prompt << " " << wrong;
        if (longest >= 2 && a.size() == b.size()) {
          const std::string limit = "1" + std::string(longest, '0');
          carries += dec::compare(dec::add(a, b), limit) >= 0;
          shifted_carries += dec::compare(dec::add(a2, b2), limit) >= 0;
        }
      }
    }
    EXPECT_GT(carries, 60);
    EXPECT_LT(shifted_carries, carries / 3) << carries;
    EXPECT_GE(varied, long_ones * 8 / 10);
  }
  auto add = task("addition");
  EXPECT_EQ(add->rewriter()->shift_answer("95+87=", "231", "50"), "281");  // 132 + 50 = 182, reversed
  EXPECT_EQ(add->rewriter()->shift_answer("95+87=", "231<eoa>", "50"), "281");
  EXPECT_FALSE(add->rewriter()->shift_answer("95+87=", "999", "50").has_value());  // 1049 does not fit
  EXPECT_FALSE(add->rewriter()->shift_answer("95+87=", "23", "50").has_value());   // not the answer's width
  EXPECT_FALSE(add->rewriter()->shift_answer("95+87=", "231", "x").has_value());
  for (const auto& g : kGarbage) {
    EXPECT_FALSE(add->rewriter()->shift_answer("95+87=", g, "50").has_value()) << g;
    EXPECT_FALSE(add->rewriter()->shift_answer(g, "231", "50").has_value()) << g;
    EXPECT_FALSE(add->rewriter()->shifted_prompt(g, 0).has_value()) << g;
  }
  auto plain = task("addition", false);
  EXPECT_EQ(plain->rewriter()->shift_answer("95+87=", "132", "50"), "182");
  EXPECT_FALSE(plain->rewriter()->shift_answer("95+87=", "0132", "50").has_value());  // a leading zero
  EXPECT_EQ(add->rewriter()->shifted_prompt("10+10=", 0)->prompt, "10+10=");  // leading 1s stay; 20 has one split
  EXPECT_EQ(add->rewriter()->shifted_prompt("10+10=", 0)->offset, "0");
  EXPECT_FALSE(add->rewriter()->shifted_prompt("62+5=", -1).has_value());
  EXPECT_FALSE(task("multiplication")->rewriter()->shifted_prompt("12*34=", 0).has_value());
  auto sudoku = task("sudoku");
  EXPECT_EQ(sudoku->rewriter(), nullptr);  // no rewrites
}

// verify.split. Each step of a split rewrite is an addition of about half the problem's
// length; answered exactly, the steps give the problem's right answer, and one wrong step
// gives a wrong one (the steps' sums add up to the problem's, so no later step can undo it).
TEST(SplitPrompts, ExactStepsGiveTheRightAnswerAndOneWrongStepAWrongOne) {
  for (bool padded : {false, true}) {
    auto t = addition_padded(padded);
    const auto* arithmetic = dynamic_cast<const mg::tasks::ArithmeticTask*>(t.get());
    ASSERT_NE(arithmetic, nullptr);
    auto operands = [&](const std::string& prompt) { return addition_operands(prompt, padded); };
    int chains = 0, carried = 0, halves = 0, steps_asked = 0, varied = 0, wrong_kept = 0, unreadable = 0;
    for (uint64_t i = 0; i < 200; ++i) {
      auto p = t->generate(8, i, {2, 6});
      auto [a, b] = operands(p.prompt);
      const size_t half = (std::max(a.size(), b.size()) + 1) / 2;
      std::string first_of_zero;
      for (int k = 0; k < 4; ++k) {
        // wrong_at: the step whose exact answer is replaced by a wrong one (-1: none).
        for (int wrong_at : {-1, 0, 1}) {
          std::vector<std::string> said;
          std::optional<mg::SplitStep> step;
          for (int n = 0; n < 4; ++n) {
            step = t->rewriter()->split_step(p.prompt, k, said);
            // A wrong answer may be too wide to stand above the lower digits: unreadable.
            if (!step && wrong_at >= 0 && static_cast<int>(said.size()) > wrong_at) break;
            ASSERT_TRUE(step.has_value()) << p.prompt << " index " << k << " after " << said.size();
            EXPECT_EQ(step->ask, t->rewriter()->split_step(p.prompt, k, said)->ask) << "not deterministic";
            if (step->ask.empty()) break;
            if (wrong_at < 0) {
              ++steps_asked;
              auto [x, y] = operands(step->ask);
              // A carried upper part may grow a digit (99 + 1); every other operand is a half.
              EXPECT_LE(std::max(x.size(), y.size()), half + 1) << p.prompt << " -> " << step->ask;
              halves += std::max(x.size(), y.size()) <= half;
            }
            if (n == 0 && wrong_at < 0) {
              if (k == 0) first_of_zero = step->ask;
              else varied += step->ask != first_of_zero;
            }
            auto exact = arithmetic->solve(step->ask);
            ASSERT_TRUE(exact.has_value()) << step->ask << " is not a prompt of the task";
            said.push_back(n == wrong_at ? t->wrong_answer({step->ask, *exact}, 5) : *exact);
          }
          if (!step) {
            ++unreadable;
            continue;
          }
          ASSERT_TRUE(step->ask.empty()) << p.prompt << ": more than 3 steps";
          EXPECT_FALSE(step->answer.empty());
          if (wrong_at < 0) {
            ++chains;
            carried += said.size() == 3;
            EXPECT_EQ(step->answer, p.answer) << p.prompt << " index " << k;
          } else if (static_cast<size_t>(wrong_at) < said.size()) {
            wrong_kept += t->grade(p.prompt, step->answer);
          }
        }
      }
    }
    EXPECT_EQ(chains, 800);
    EXPECT_GT(carried, 200);  // the carry step is exercised
    EXPECT_EQ(wrong_kept, 0);
    EXPECT_LT(unreadable, 400) << "most wrong steps still give an answer to grade";
    EXPECT_GE(halves, steps_asked * 95 / 100);
    EXPECT_GT(varied, 500);  // rewrites 1..3 ask other problems than rewrite 0
  }
  auto add = task("addition");
  EXPECT_EQ(add->rewriter()->split_step("62+85=", 0, {})->ask, "2+5=");
  EXPECT_EQ(add->rewriter()->split_step("62+85=", 0, {"70"})->ask, "6+8=");  // 7: no carry
  EXPECT_EQ(add->rewriter()->split_step("62+85=", 0, {"70", "41"})->answer, "741");  // 14 above 7
  EXPECT_EQ(add->rewriter()->split_step("95+87=", 0, {"21"})->ask, "9+1=");  // 12: the carry to 9
  EXPECT_EQ(add->rewriter()->split_step("95+87=", 0, {"21", "01"})->ask, "10+8=");
  EXPECT_EQ(add->rewriter()->split_step("95+87=", 0, {"21", "01", "810"})->answer, "281");  // 18 above 2
  EXPECT_EQ(add->rewriter()->split_step("95+87=", 0, {"21", "01", "710"})->answer, "271");  // the model's 17
  EXPECT_FALSE(add->rewriter()->split_step("95+87=", 0, {"2"}).has_value());  // not 5+7's width
  EXPECT_FALSE(add->rewriter()->split_step("95+87=", 0, {"21", "01", "810", "1"}).has_value());  // too many
  EXPECT_EQ(add->rewriter()->split_step("5+3=", 0, {})->ask, "5+3=");  // one digit: its own one step
  EXPECT_EQ(add->rewriter()->split_step("5+3=", 0, {"80"})->answer, "80");  // answers reversed, 2 wide
  EXPECT_FALSE(add->rewriter()->split_step("5+3=", 0, {"80", "1"}).has_value());
  EXPECT_FALSE(add->rewriter()->split_step("62+85=", -1, {}).has_value());
  for (const auto& g : kGarbage) {
    EXPECT_FALSE(add->rewriter()->split_step(g, 0, {}).has_value()) << g;
    EXPECT_FALSE(add->rewriter()->split_step("95+87=", 0, {g}).has_value()) << g;
  }
  EXPECT_FALSE(task("multiplication")->rewriter()->split_step("12*34=", 0, {}).has_value());
  auto sudoku = task("sudoku");
  EXPECT_EQ(sudoku->rewriter(), nullptr);  // no rewrites
}

// verify.offset: model. The sum of a shifted answer's leading digits and the offset's is a
// short addition; its right answer, put above the shifted answer's lower digits, moves that
// answer back exactly as shift_answer does, for right and wrong answers alike, and a wrong sum
// gives a wrong answer. With operands of one length the sum's operands have at most 2 digits,
// which a model pretrained on 1-3 digits can add, whatever the length of the problem.
TEST(ShiftedPrompts, TheSumOfTheLeadingDigitsMovesAnAnswerBackAsTheOffsetDoes) {
  namespace dec = mg::tasks::decimal;
  for (bool padded : {false, true}) {
    auto t = addition_padded(padded);
    const auto* arithmetic = dynamic_cast<const mg::tasks::ArithmeticTask*>(t.get());
    ASSERT_NE(arithmetic, nullptr);
    auto operands = [&](const std::string& prompt) { return addition_operands(prompt, padded); };
    int asked = 0, short_sums = 0, same_length = 0, wrong_sums = 0;
    for (uint64_t i = 0; i < 200; ++i) {
      auto p = t->generate(6, i, i % 2 ? mg::Range{1, 5} : mg::Range{4, 5});
      auto [a, b] = operands(p.prompt);
      for (int k = 0; k < 4; ++k) {
        auto q = t->rewriter()->shifted_prompt(p.prompt, k);
        ASSERT_TRUE(q.has_value()) << p.prompt;
        auto [a2, b2] = operands(q->prompt);
        auto right = dec::format_answer(dec::add(a2, b2), static_cast<int>(p.answer.size()), true);
        ASSERT_TRUE(right.has_value());
        for (const std::string& answer : {*right, t->wrong_answer({q->prompt, *right}, 5)}) {
          auto sum = t->rewriter()->offset_sum_prompt(p.prompt, answer, q->offset);
          ASSERT_TRUE(sum.has_value()) << p.prompt << " " << answer;
          auto want = t->rewriter()->shift_answer(p.prompt, answer, q->offset);
          if (sum->empty()) {  // a zero offset: nothing to add
            EXPECT_EQ(dec::strip_zeros(q->offset), "0");
            EXPECT_EQ(t->rewriter()->join_offset_sum(p.prompt, answer, q->offset, "ignored"), want);
            continue;
          }
          ++asked;
          auto said = arithmetic->solve(*sum);
          ASSERT_TRUE(said.has_value()) << *sum << " is not a prompt of the task";
          EXPECT_EQ(t->rewriter()->join_offset_sum(p.prompt, answer, q->offset, *said), want) << p.prompt << " " << *sum;
          if (answer == *right) {
            EXPECT_EQ(want, p.answer);
            auto wrong = t->wrong_answer({*sum, *said}, 2);
            auto moved = t->rewriter()->join_offset_sum(p.prompt, answer, q->offset, wrong);
            wrong_sums += moved.has_value();
            EXPECT_FALSE(moved && t->grade(p.prompt, *moved)) << *sum << " " << wrong;
            if (a.size() == b.size()) {
              ++same_length;
              auto [x, y] = operands(*sum);
              short_sums += x.size() <= 2 && y.size() <= 2;
            }
          }
        }
      }
    }
    EXPECT_GT(asked, 400);
    EXPECT_GT(wrong_sums, 100);
    EXPECT_GT(same_length, 100);
    EXPECT_EQ(short_sums, same_length);
  }
  auto add = task("addition");
  EXPECT_EQ(add->rewriter()->offset_sum_prompt("95+87=", "231", "50"), "13+5=");  // 132: 13 and 2 below
  EXPECT_EQ(add->rewriter()->join_offset_sum("95+87=", "231", "50", "810"), "281");  // 18 above 2: 182
  EXPECT_EQ(add->rewriter()->join_offset_sum("95+87=", "231", "50", "710"), "271");  // the model's 17
  EXPECT_EQ(add->rewriter()->offset_sum_prompt("95+87=", "231", "0"), "");
  EXPECT_EQ(add->rewriter()->join_offset_sum("95+87=", "231", "000", "x"), "231");
  EXPECT_FALSE(add->rewriter()->join_offset_sum("95+87=", "231", "50", "81").has_value());  // not 13+5's width
  EXPECT_FALSE(add->rewriter()->join_offset_sum("95+87=", "231", "50", "999").has_value());  // 9992 does not fit
  EXPECT_FALSE(add->rewriter()->offset_sum_prompt("95+87=", "23", "50").has_value());
  EXPECT_FALSE(add->rewriter()->offset_sum_prompt("95+87=", "231", "5x").has_value());
  for (const auto& g : kGarbage) {
    EXPECT_FALSE(add->rewriter()->offset_sum_prompt("95+87=", g, "50").has_value()) << g;
    EXPECT_FALSE(add->rewriter()->join_offset_sum("95+87=", "231", "50", g).has_value()) << g;
    EXPECT_FALSE(add->rewriter()->offset_sum_prompt(g, "231", "50").has_value()) << g;
  }
  EXPECT_FALSE(task("multiplication")->rewriter()->offset_sum_prompt("12*34=", "8040", "10").has_value());
  EXPECT_EQ(task("sudoku")->rewriter(), nullptr);  // no rewrites
}

TEST(Generators, ArithmeticRangesAndMaxChars) {
  for (auto name : {"addition", "multiplication"}) {
    auto t = task(name);
    const char op = std::string(name) == "addition" ? '+' : '*';
    std::set<size_t> lengths;
    int longest = 0;
    for (uint64_t i = 0; i < 2000; ++i) {
      auto p = t->generate(1, i, {2, 5});
      ASSERT_TRUE(t->grade(p.prompt, p.answer)) << p.prompt << p.answer;
      size_t at = p.prompt.find(op);
      lengths.insert(at);
      lengths.insert(p.prompt.size() - at - 2);
      int n = static_cast<int>(p.prompt.size() + p.answer.size());
      EXPECT_LE(n, t->max_chars({2, 5}));
      longest = std::max(longest, n);
    }
    EXPECT_EQ(lengths, (std::set<size_t>{2, 3, 4, 5})) << name;
    EXPECT_EQ(longest, t->max_chars({2, 5})) << name;  // the bound is tight
    EXPECT_EQ(error_kind([&] { t->generate(1, 0, {0, 2}); }), mg::ErrorKind::BadInput);
    EXPECT_EQ(error_kind([&] { t->generate(1, 0, {3, 2}); }), mg::ErrorKind::BadInput);
  }
}

TEST(Generators, SudokuGridsSolvedWithTheRightHoles) {
  for (int size : {4, 9}) {
    auto t = task("sudoku", true, size);
    auto* s = dynamic_cast<mg::tasks::SudokuTask*>(t.get());
    ASSERT_NE(s, nullptr);
    mg::Range holes = size == 4 ? mg::Range{3, 10} : mg::Range{20, 50};
    std::set<std::string> grids;
    for (uint64_t i = 0; i < 500; ++i) {
      auto p = t->generate(2, i, holes);
      ASSERT_TRUE(s->is_solved(p.answer)) << p.answer;
      ASSERT_TRUE(t->grade(p.prompt, p.answer));
      EXPECT_EQ(static_cast<int>(p.prompt.size() + p.answer.size()), t->max_chars(holes));
      int n = static_cast<int>(std::count(p.prompt.begin(), p.prompt.end(), '.'));
      EXPECT_GE(n, holes.lo);
      EXPECT_LE(n, holes.hi);
      grids.insert(p.answer);
    }
    // 4x4 has 288 solved grids; the shuffles must reach many of them.
    EXPECT_GT(grids.size(), size == 4 ? 100u : 400u);
    EXPECT_EQ(error_kind([&] { t->generate(1, 0, {0, size * size + 1}); }), mg::ErrorKind::BadInput);
  }
}

TEST(WrongAnswers, NeverCorrectOverThousandsOfSeeds) {
  struct Case { std::string name; bool reverse; int size; mg::Range d; };
  for (const Case& c : {Case{"addition", true, 4, {1, 3}}, Case{"addition", false, 4, {1, 3}},
                        Case{"multiplication", true, 4, {1, 3}}, Case{"multiplication", false, 4, {1, 2}},
                        Case{"sudoku", true, 4, {0, 10}}, Case{"sudoku", true, 9, {1, 40}}}) {
    auto t = task(c.name, c.reverse, c.size);
    std::set<std::string> distinct;
    int same_length = 0;
    const int n = 3000;
    for (int i = 0; i < n; ++i) {
      auto p = t->generate(11, static_cast<uint64_t>(i % 300), c.d);
      std::string w = t->wrong_answer(p, static_cast<uint64_t>(i));
      ASSERT_FALSE(t->grade(p.prompt, w)) << c.name << " " << p.prompt << " " << w;
      ASSERT_EQ(w, t->wrong_answer(p, static_cast<uint64_t>(i)));  // deterministic
      same_length += w.size() == p.answer.size();
      if (i % 300 == 5) distinct.insert(w);  // problem 5 under 10 seeds
    }
    EXPECT_GE(same_length, n * 95 / 100) << c.name;
    EXPECT_GE(distinct.size(), 3u) << c.name;  // several different slips for one problem
  }
}

TEST(WrongAnswers, SlipsLookLikeSlips) {
  // 2-digit addition, reversed: most wrong answers differ from the right one in 1-2 digits.
  auto t = task("addition");
  int close = 0;
  for (int i = 0; i < 1000; ++i) {
    auto p = t->generate(5, static_cast<uint64_t>(i), {2, 2});
    std::string w = t->wrong_answer(p, static_cast<uint64_t>(i));
    int diff = 0;
    for (size_t k = 0; k < w.size(); ++k) diff += w[k] != p.answer[k];
    close += diff <= 2;
  }
  EXPECT_GE(close, 900);
}

TEST(Decimal, AgreesWithMachineArithmetic) {
  namespace dec = mg::tasks::decimal;
  mg::tasks::Rng rng(42);
  for (int i = 0; i < 5000; ++i) {
    uint64_t a = rng.next() % 1000000000ULL, b = rng.next() % (i % 2 ? 1000ULL : 1000000000ULL);
    EXPECT_EQ(dec::add(std::to_string(a), std::to_string(b)), std::to_string(a + b));
    EXPECT_EQ(dec::multiply(std::to_string(a), std::to_string(b)), std::to_string(a * b));
    int k = static_cast<int>(rng.next() % 12);
    uint64_t p = 1;
    for (int j = 0; j < k; ++j) p *= 10;
    EXPECT_EQ(dec::add_power_of_ten(std::to_string(a), k), std::to_string(a + p));
    auto sub = dec::subtract_power_of_ten(std::to_string(a), k);
    EXPECT_EQ(sub.has_value(), a >= p);
    if (sub) EXPECT_EQ(*sub, std::to_string(a - p));
  }
  for (int i = 0; i < 5000; ++i) {
    uint64_t a = rng.next() % 100000ULL, b = rng.next() % (i % 3 ? 100000ULL : 100ULL);
    EXPECT_EQ(dec::compare(std::to_string(a), "00" + std::to_string(b)), a < b ? -1 : (a > b ? 1 : 0));
    auto d = dec::subtract(std::to_string(a), std::to_string(b));
    EXPECT_EQ(d.has_value(), a >= b);
    if (d) EXPECT_EQ(*d, std::to_string(a - b));
  }
  // Uniform in [0, limit]: both ends are reached and nothing beyond.
  std::set<std::string> draws;
  for (int i = 0; i < 2000; ++i) {
    auto r = dec::random_at_most(rng, "012");
    EXPECT_LE(dec::compare(r, "12"), 0) << r;
    draws.insert(r);
  }
  EXPECT_EQ(draws.size(), 13u);
  EXPECT_EQ(dec::random_at_most(rng, "0"), "0");
  EXPECT_EQ(dec::add_dropping_carry("58", "67", -1), "15");  // 5+6 -> 1, 8+7 -> 5, no carries
  EXPECT_EQ(dec::add_dropping_carry("58", "67", 0), "115");  // the units carry lost: 125 - 10
  EXPECT_EQ(dec::add_dropping_carry("58", "67", 1), "25");   // the tens carry lost: 125 - 100
  EXPECT_EQ(dec::strip_zeros("000"), "0");
  EXPECT_EQ(dec::format_answer("147", 3, true), "741");
  EXPECT_EQ(dec::format_answer("3", 2, true), "30");
  EXPECT_EQ(dec::format_answer("147", 2, true), std::nullopt);
  EXPECT_EQ(dec::format_answer("0147", 2, false), "147");
  EXPECT_FALSE(dec::is_digits(""));
  EXPECT_FALSE(dec::is_digits("1a"));
}

TEST(Graders, StripEndMarkerOnlyOnce) {
  EXPECT_EQ(mg::tasks::strip_end_marker("741<eoa>"), "741");
  EXPECT_EQ(mg::tasks::strip_end_marker("741<eoa><eoa>"), "741<eoa>");
  EXPECT_EQ(mg::tasks::strip_end_marker("<eoa>"), "");
  EXPECT_EQ(mg::tasks::strip_end_marker("eoa>"), "eoa>");
}

}  // namespace

// Every stored result depends on these streams: the generator, the task data's seeds and the
// derived seeds share one mixing function (core/mix64.h), and their values must not move.
TEST(Seeds, StreamsAreFixed) {
  mg::tasks::Rng rng(42);
  EXPECT_EQ(rng.next(), 0xbdd732262feb6e95ULL);
  EXPECT_EQ(rng.next(), 0x28efe333b266f103ULL);
  EXPECT_EQ(rng.next(), 0x47526757130f9f52ULL);
  EXPECT_EQ(mg::tasks::problem_seed({1, 2}), 0xc670050d2785cdacULL);
  EXPECT_EQ(mg::derive_seed(1, mg::SeedPurpose::Sampling, {3}), 0xf490120836b2ae36ULL);
}
