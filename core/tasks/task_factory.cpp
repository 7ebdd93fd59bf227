// make_task and the helpers every task shares.
#include "core/errors.h"
#include "core/tasks/addition.h"
#include "core/tasks/multiplication.h"
#include "core/tasks/sudoku.h"
#include "core/tasks/task.h"

namespace mg {

std::unique_ptr<Task> make_task(const TaskConfig& config) {
  tasks::ArithmeticFormat format{config.reverse_answer, config.reverse_operands, config.pad_to};
  if (config.name == "addition") return std::make_unique<tasks::AdditionTask>(format);
  if (config.name == "multiplication") return std::make_unique<tasks::MultiplicationTask>(format);
  if (config.name == "sudoku") return std::make_unique<tasks::SudokuTask>(config.size);
  fail_input("task.name: unknown task '" + config.name +
             "' (expected addition, multiplication or sudoku)");
}

std::string difficulty_key(const TaskConfig& config) { return make_task(config)->difficulty_key(); }

Range base_difficulty(const TaskConfig& config) {
  return difficulty_key(config) == "holes" ? config.holes : config.digits;
}

namespace tasks {
std::string strip_end_marker(const std::string& answer) {
  const std::string end = tok::kEnd;
  if (answer.size() >= end.size() && answer.compare(answer.size() - end.size(), end.size(), end) == 0)
    return answer.substr(0, answer.size() - end.size());
  return answer;
}
}  // namespace tasks

}  // namespace mg
