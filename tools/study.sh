#!/usr/bin/env bash
# A study of one recipe: self-verified arms beside the `none` and `oracle` control arms, over
# several seeds, then one comparison table and plot. The arms of a seed share round-0000
# (pretrained once; `mindgap improve --from`), so they differ only in what the loop keeps.
#   tools/study.sh recipes/tiny_addition.yaml "1 2 3" [key=value overrides for every run...]
# Arms (MINDGAP_ARMS, default "mc consistency none oracle": the learned verdict and majority
# vote, each with the recipe's filter and format, beside the two controls):
#   recipe       the recipe's own verify method and filter
#   mc|score|consistency|ensemble   that verify method with the recipe's filter
#   none|oracle  the control arms (filter.method none / oracle)
# Control arms run after the self-verified ones. Under an adaptive curriculum (improve.advance)
# they replay the schedule the seed's first self-verified arm took (`mindgap schedule`): the
# same lengths for the same number of rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=$1; seeds=${2:-"1 2 3"}; shift $(( $# >= 2 ? 2 : 1 ))
arms=${MINDGAP_ARMS:-"mc consistency none oracle"}
bin=${MINDGAP_BUILD:-build}/mindgap
name=$(basename "$recipe" .yaml)
out=${MINDGAP_STUDY_DIR:-runs/study-$name}
mkdir -p "$out"
dirs=()
for seed in $seeds; do
  base="$out/seed$seed-base"
  "$bin" pretrain "$recipe" run.seed="$seed" run.dir="$base" "$@"
  ordered=()
  for arm in $arms; do case $arm in none|oracle) ;; *) ordered+=("$arm") ;; esac; done
  for arm in $arms; do case $arm in none|oracle) ordered+=("$arm") ;; esac; done
  schedule=()
  for arm in "${ordered[@]}"; do
    case $arm in
      recipe) extra=() ;;
      # filter.fallback belongs to the recipe's own arm (threshold filter, equivalent check): the
      # controls keep samples only, and another verify method has no answer of its own to give.
      none|oracle) extra=("improve.filter.method=$arm" improve.filter.fallback=none ${schedule[@]+"${schedule[@]}"}) ;;
      *) extra=("improve.verify.method=$arm" improve.filter.fallback=none) ;;
    esac
    dir="$out/seed$seed-$arm"
    "$bin" improve "$recipe" --from "$base" run.seed="$seed" run.dir="$dir" "$@" ${extra[@]+"${extra[@]}"}
    dirs+=("$dir")
    case $arm in
      none|oracle) ;;
      *) if [ ${#schedule[@]} -eq 0 ]; then mapfile -t schedule < <("$bin" schedule "$dir"); fi ;;
    esac
  done
done
"$bin" compare "${dirs[@]}" --png "$out/compare.png" | tee "$out/compare.txt"
