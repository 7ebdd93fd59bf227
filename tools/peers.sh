#!/usr/bin/env bash
# A population of runs that verify each other (improve.verify.method peers, trainers/verifiers/peer_vote.h):
# one run per seed, each pretrained on its own, then all advanced in lockstep, one round at a
# time, so that every run's round r is voted on by the other runs' round r-1 models.
#   tools/peers.sh recipes/tiny_curriculum.yaml "1 3 4" [key=value overrides for every run...]
# Runs land in $MINDGAP_STUDY_DIR (default runs/peers-<recipe>)/seed<s>. With MINDGAP_FROM set
# to a run directory with {seed} in it (runs/study-x/seed{seed}-base), each run forks from
# that run's round-0000 instead of pretraining its own. The filter is the recipe's; the
# controls are tools/study.sh's none and oracle arms, on each run's schedule (mindgap schedule).
# MINDGAP_CONCURRENT=1 runs the seeds of a round at the same time (each logs to seed<s>.log):
# within a round they read only each other's earlier rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=$1; seeds=${2:-"1 2 3"}; shift $(( $# >= 2 ? 2 : 1 ))
bin=${MINDGAP_BUILD:-build}/mindgap
name=$(basename "$recipe" .yaml)
out=${MINDGAP_STUDY_DIR:-runs/peers-$name}
mkdir -p "$out"
read -r -a seed_list <<< "$seeds"
[ ${#seed_list[@]} -ge 2 ] || { echo "error: tools/peers.sh: needs at least two seeds (a run is not its own peer)" >&2; exit 2; }

peers_of() {  # every run's directory but seed $1's, as a YAML list
  local list="" s
  for s in "${seed_list[@]}"; do [ "$s" = "$1" ] || list+="${list:+, }$out/seed$s"; done
  echo "[$list]"
}

round_of_seed() {  # seed $1's run up to round $2; the rest: overrides
  local seed=$1 r=$2 dir="$out/seed$1" from=()
  shift 2
  if [ ! -f "$dir/recipe.yaml" ]; then
    if [ -n "${MINDGAP_FROM:-}" ]; then
      from=(--from "${MINDGAP_FROM//\{seed\}/$seed}")
    else
      "$bin" pretrain "$recipe" run.seed="$seed" run.dir="$out/seed$seed-base" "$@"
      from=(--from "$out/seed$seed-base")
    fi
  fi
  # filter.fallback check takes the equivalent check's own answer; the peers' vote has none to give.
  "$bin" improve "$recipe" ${from[@]+"${from[@]}"} run.seed="$seed" run.dir="$dir" improve.verify.method=peers \
    "improve.verify.peers=$(peers_of "$seed")" improve.filter.fallback=none "$@" improve.rounds="$r"
}

# The number of rounds: improve.rounds of the recipe file (block style), or of an override.
rounds=$(awk '/^improve:/ { inside = 1; next } /^[^ #]/ { inside = 0 } inside && /^  rounds:/ { print $2; exit }' "$recipe")
for arg in "$@"; do case $arg in improve.rounds=*) rounds=${arg#improve.rounds=} ;; esac; done
[[ "$rounds" =~ ^[0-9]+$ ]] || { echo "error: tools/peers.sh: cannot read improve.rounds from $recipe; pass improve.rounds=N" >&2; exit 2; }
# Every run exists (pretrained or forked) before any round reads another's round-0000.
for seed in "${seed_list[@]}"; do round_of_seed "$seed" 0 "$@"; done
for ((r = 1; r <= rounds; ++r)); do
  if [ "${MINDGAP_CONCURRENT:-0}" = 1 ]; then
    pids=()
    for seed in "${seed_list[@]}"; do round_of_seed "$seed" "$r" "$@" >> "$out/seed$seed.log" 2>&1 & pids+=($!); done
    for i in "${!pids[@]}"; do
      wait "${pids[$i]}" || { echo "error: tools/peers.sh: seed ${seed_list[$i]} failed in round $r (see $out/seed${seed_list[$i]}.log)" >&2; exit 1; }
    done
  else
    for seed in "${seed_list[@]}"; do round_of_seed "$seed" "$r" "$@"; done
  fi
done
dirs=()
for seed in "${seed_list[@]}"; do dirs+=("$out/seed$seed"); done
"$bin" compare "${dirs[@]}" --png "$out/compare.png" | tee "$out/compare.txt"
