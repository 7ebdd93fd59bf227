#pragma once
// The per-round console table, from the round records of metrics.jsonl (one or several runs),
// and the label of a run's arm in it.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/recipe/recipe.h"

namespace mg {

// The label of a run in studies: the verify method and format, or the control arm.
std::string arm_label(const Recipe& recipe);

// record[key] printed with `fmt` for a table cell; "-" where it is absent or null (a metric
// that is undefined: nothing kept, one class absent).
std::string table_cell(const nlohmann::json& record, const char* key, const char* fmt = "%.3f");

// Columns: run label, round, arm, J(f), J(f[w]), gap, relative gap, pass@1, pass@k, AUROC,
// kept, and greedy held-out accuracy per difficulty. Control arms are marked "(control)".
std::string format_round_table(const std::vector<nlohmann::json>& records);

}  // namespace mg
