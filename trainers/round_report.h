#pragma once
// The per-round console table, from the round records of metrics.jsonl (one or several runs).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mg {

// Columns: run label, round, arm, J(f), J(f[w]), gap, relative gap, pass@1, pass@k, AUROC,
// kept, and greedy held-out accuracy per difficulty. Control arms are marked "(control)".
std::string format_round_table(const std::vector<nlohmann::json>& records);

}  // namespace mg
