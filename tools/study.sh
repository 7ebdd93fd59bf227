#!/usr/bin/env bash
# A study of one recipe: the self-verified arm beside the `none` and `oracle` control arms, over
# several seeds, then one comparison table and plot. Every arm of a seed shares round-0000
# (pretrained once, copied), so the arms differ only in what the loop keeps.
#   tools/study.sh recipes/tiny_addition.yaml "1 2 3" [extra key=value overrides...]
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=$1; seeds=${2:-"1 2 3"}; shift $(( $# >= 2 ? 2 : 1 ))
bin=${MINDGAP_BUILD:-build}/mindgap
name=$(basename "$recipe" .yaml)
out=${MINDGAP_STUDY_DIR:-runs/study-$name}
mkdir -p "$out"
dirs=()
for seed in $seeds; do
  base="$out/seed$seed-base"
  "$bin" pretrain "$recipe" run.seed="$seed" run.dir="$base" "$@"
  for arm in self none oracle; do
    dir="$out/seed$seed-$arm"
    case $arm in
      self) extra=() ;;
      *) extra=(improve.filter.method=$arm) ;;
    esac
    "$bin" improve "$recipe" --from "$base" run.seed="$seed" run.dir="$dir" "${extra[@]}" "$@"
    dirs+=("$dir")
  done
done
"$bin" compare "${dirs[@]}" --png "$out/compare.png"
