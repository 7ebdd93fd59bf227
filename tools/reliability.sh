#!/usr/bin/env bash
# Runs the faults a run directory must survive and prints one table (fault, trials, held,
# figure); exit 0 when every row held. Needs a built tree (tools/build.sh); under
# MINDGAP_BUILD=build-asan it exercises the sanitizer build. Options (environment):
#   KILLS=10      kills at random moments during a tiny_addition run (half kill -9, half SIGTERM)
#   FUZZ=10000    mutated inputs per parser
#   KEEP=1        keep the scratch directory
#   SECTIONS="kills fuzz"  run only these parts (kills disk writers files fuzz mpi)
# Registered in ctest under the opt-in label `reliability` (ctest -L reliability).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bindir=${MG_BIN_DIR:-$root/${MINDGAP_BUILD:-build}}
bin=$bindir/mindgap
fuzz=$bindir/mindgap_fuzz
kills=${KILLS:-10}
fuzz_inputs=${FUZZ:-10000}
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
[ -x "$bin" ] || { echo "reliability: $bin not built (tools/build.sh)" >&2; exit 2; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mg_reliability.XXXXXX")
log=$scratch/log.txt
rows=()
failed=0
# A small recipe: tiny_addition, 150 pretraining steps, 2 rounds of 64 prompts.
tiny=(recipes/tiny_addition.yaml pretrain.steps=150 pretrain.stop_at_greedy=2 improve.rounds=2
      improve.prompts_per_round=64 improve.distill.steps=60 task.eval_prompts=200 run.threads=1)
micro=(tests/data/micro_addition.yaml pretrain.eval_every=4)

row() {  # fault trials held figure
  rows+=("$(printf '| %-38s | %6s | %4s | %s |' "$1" "$2" "$3" "$4")")
  [ "$2" = "$3" ] || [ "$3" = "-" ] || failed=1
  echo "  -> $1: $3/$2 held ($4)" >&2
}
weights_of() {  # run dir -> one checksum line per round's weights
  (cd "$1" && sha256sum round-*/model.safetensors 2>/dev/null)
}
dup_rows() {  # rows of metrics.jsonl whose (kind, round, step) repeats
  python3 - "$1" <<'EOF'
import json, sys, collections
keys = collections.Counter()
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    keys[(r.get("kind"), r.get("round"), r.get("step"))] += 1
print(sum(n - 1 for n in keys.values() if n > 1))
EOF
}
now() { date +%s.%N; }
# SECTIONS (default all): kills disk writers files fuzz mpi
want() { [[ " ${SECTIONS:-kills disk writers files fuzz mpi} " == *" $1 "* ]]; }

echo "reliability: scratch $scratch, log $log" >&2

# ---- 1. kills at random moments, each resumed; the end must be bit-identical ------------------
if want kills; then
echo "[kills] uninterrupted reference run" >&2
t0=$(now)
"$bin" run "${tiny[@]}" run.dir="$scratch/tiny_ref" >>"$log" 2>&1 || { echo "reference run failed" >&2; exit 1; }
ref_s=$(python3 -c "print($(now) - $t0)")
echo "[kills] reference took ${ref_s}s; $kills kills" >&2
moments=() term_ok=0 term_n=0 term_worst=0 held=0 chains=0 done_kills=0 attempt=0
# Chains of kills: a run directory is killed and resumed until it completes, then compared
# with the reference; a new chain starts until KILLS kills have landed.
while ((done_kills < kills)); do
  chains=$((chains + 1))
  dir=$scratch/tiny_killed_$chains
  chain_kills=0
  while ((done_kills < kills)); do
    attempt=$((attempt + 1))
    at=$(python3 -c "import random; random.seed($attempt); print(round(random.uniform(1.0, max(2.0, $ref_s * 0.5)), 1))")
    "$bin" run "${tiny[@]}" run.dir="$dir" >>"$log" 2>&1 &
    pid=$!
    sleep "$at"
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; break; fi  # completed before the kill
    done_kills=$((done_kills + 1)); chain_kills=$((chain_kills + 1))
    if ((done_kills % 2)); then
      kill -9 "$pid"; wait "$pid"; moments+=("${at}s:KILL")
    else
      t1=$(now); kill -TERM "$pid"; wait "$pid"; rc=$?
      took=$(python3 -c "print(round($(now) - $t1, 2))")
      term_n=$((term_n + 1))
      moments+=("${at}s:TERM(${took}s,rc=$rc)")
      if [ "$rc" = 143 ] && python3 -c "import sys; sys.exit(0 if $took < 10 else 1)"; then term_ok=$((term_ok + 1)); fi
      term_worst=$(python3 -c "print(max($term_worst, $took))")
    fi
  done
  "$bin" run "${tiny[@]}" run.dir="$dir" >>"$log" 2>&1 &&
    [ "$(weights_of "$dir")" = "$(weights_of "$scratch/tiny_ref")" ] && held=$((held + chain_kills))
done
row "kill -9 / SIGTERM at random moments, resume" "$kills" "$held" "$chains run(s); final weights of rounds 0-2 bit-identical to the uninterrupted run; killed at ${moments[*]}"
row "SIGTERM: exit 143 within 10 s" "$term_n" "$term_ok" "slowest stop ${term_worst}s"
dups=0
for ((c = 1; c <= chains; c++)); do dups=$((dups + $(dup_rows "$scratch/tiny_killed_$c/metrics.jsonl"))); done
row "metrics.jsonl rows after the kills" 1 "$([ "$dups" = 0 ] && echo 1 || echo 0)" "$dups repeated (kind, round, step)"

fi

# ---- 2. disk full on a small tmpfs ------------------------------------------------------------
if want disk; then
mnt=$scratch/tmpfs
mkdir -p "$mnt"
if mount -t tmpfs -o size=3m tmpfs "$mnt" 2>"$scratch/mount.err"; then
  big=(model.d_model=128 model.n_layer=2)
  "$bin" run "${micro[@]}" "${big[@]}" run.dir="$mnt/run" >"$scratch/full.out" 2>"$scratch/full.err"
  rc=$?
  # Then more room, and the same command again: it must resume and end as a run that never
  # ran out of room.
  mount -o remount,size=256m "$mnt" &&
    "$bin" run "${micro[@]}" "${big[@]}" run.dir="$mnt/run" >>"$log" 2>&1
  resumed=$?
  "$bin" run "${micro[@]}" "${big[@]}" run.dir="$scratch/roomy" >>"$log" 2>&1
  same=0; [ "$(weights_of "$mnt/run")" = "$(weights_of "$scratch/roomy")" ] && same=1
  umount "$mnt"
  if [ "$rc" = 2 ] && grep -q "error:" "$scratch/full.err" && [ "$resumed" = 0 ] && [ "$same" = 1 ]; then held=1; else held=0; fi
  row "disk full (3 MB tmpfs), then more room" 1 "$held" "exit $rc: $(grep -m1 -E 'error:|enforce fail' "$scratch/full.err" | cut -c1-100); with room the rerun exited $resumed, final weights $([ $same = 1 ] && echo bit-identical to || echo DIFFERENT from) an uninterrupted run"
else
  row "disk full (3 MB tmpfs)" 1 "-" "skipped: cannot mount a tmpfs here ($(head -c 80 "$scratch/mount.err"))"
fi

fi

# ---- 3. two writers on one run directory -----------------------------------------------------
if want writers; then
dir=$scratch/two
"$bin" run "${micro[@]}" run.dir="$dir" improve.distill.steps=100000 >>"$log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -f "$dir/round-0001.tmp/kept.jsonl" ] && break; sleep 0.1; done
"$bin" run "${micro[@]}" run.dir="$dir" improve.distill.steps=100000 >"$scratch/second.out" 2>"$scratch/second.err"
rc=$?
"$bin" eval "$dir" --round 0 >"$scratch/reader.out" 2>>"$log"
reader=$?
mpi_rc=-
if command -v mpirun >/dev/null; then  # the same refusal reaches every rank of a job
  env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 mpirun -np 2 --oversubscribe \
    --bind-to none "$bin" run "${micro[@]}" run.dir="$dir" improve.distill.steps=100000 >"$scratch/second_mpi.txt" 2>&1
  mpi_rc=$?
  [ "$(grep -c "another mindgap is writing this run (pid $pid" "$scratch/second_mpi.txt")" = 2 ] || mpi_rc="$mpi_rc(message missing)"
fi
kill -9 "$pid"; wait "$pid" 2>/dev/null
flock -n "$dir/LOCK" true; free=$?
held=0
if [ "$rc" = 2 ] && grep -q "pid $pid" "$scratch/second.err" && [ "$reader" = 0 ] && [ "$free" = 0 ] &&
   { [ "$mpi_rc" = 2 ] || [ "$mpi_rc" = - ]; }; then held=1; fi
row "two writers on one run.dir" 1 "$held" "second exit $rc naming pid $pid; as mpirun -np 2: exit $mpi_rc, both ranks told; reader exit $reader; lock free after kill -9: $([ $free = 0 ] && echo yes || echo no)"

fi

# ---- 4. every file of a finished run truncated / bit-flipped / deleted ------------------------
if want files; then
dir=$scratch/micro_ref
"$bin" run "${micro[@]}" run.dir="$dir" >>"$log" 2>&1 || { echo "micro run failed" >&2; exit 1; }
ref_last=$(cd "$dir" && sha256sum round-0002/model.safetensors)
trials=0 held=0 refused=0 recovered=0 unused=0 bad=()
for file in $(cd "$dir" && find . -type f ! -name LOCK | sed 's|^\./||' | sort); do
  for how in truncate flip delete; do
    trials=$((trials + 1))
    work=$scratch/damaged
    rm -rf "$work"; cp -a "$dir" "$work"
    case $how in
      truncate) size=$(stat -c %s "$work/$file"); truncate -s $((size / 2)) "$work/$file" ;;
      flip) python3 - "$work/$file" <<'EOF'
import os, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
if b:
    i = len(b) // 3
    b[i] ^= 0x10
open(p, "wb").write(bytes(b))
EOF
      ;;
      delete) rm -f "$work/$file" ;;
    esac
    damaged_sum=$({ sha256sum <"$work/$file"; } 2>/dev/null || echo missing)
    "$bin" run "${micro[@]}" run.dir="$work" >"$scratch/damaged.out" 2>"$scratch/damaged.err"
    rc=$?
    warned=$(grep -ciE "checksum|corrupt|unusable|not a complete record|unfinished|mismatch|damaged" "$scratch/damaged.err")
    # The run's result: the last round's weights. A round file the resume left damaged must
    # be refused when it is read (eval verifies the round's MANIFEST); a round the resume
    # redid (after falling back to an older one) must read back.
    same=0; [ "$(cd "$work" && sha256sum round-0002/model.safetensors 2>/dev/null)" = "$ref_last" ] && same=1
    reread=ok
    case $file in
      round-*/*)
        r=${file#round-}; r=$((10#${r%%/*}))
        if ! cmp -s "$work/$file" "$dir/$file"; then
          "$bin" eval "$work" --round "$r" >/dev/null 2>"$scratch/reread.err"
          erc=$?
          if [ "$({ sha256sum <"$work/$file"; } 2>/dev/null || echo missing)" = "$damaged_sum" ]; then
            [ $erc = 2 ] || reread=missed
          else
            [ $erc = 0 ] || reread=redone-unreadable
          fi
        fi ;;
    esac
    if [ "$rc" = 2 ] && grep -q "^error:" "$scratch/damaged.err"; then
      held=$((held + 1)); refused=$((refused + 1))
    elif [ "$rc" = 0 ] && [ $same = 1 ] && [ $reread = ok ] && [ "$warned" -gt 0 ]; then
      held=$((held + 1)); recovered=$((recovered + 1))
    elif [ "$rc" = 0 ] && [ $same = 1 ] && [ $reread = ok ]; then
      held=$((held + 1)); unused=$((unused + 1))  # not needed by the resume, refused when read
    else
      bad+=("$file:$how(rc=$rc,same=$same,reread=$reread)")
    fi
  done
done
row "files truncated / bit-flipped / deleted" "$trials" "$held" \
  "$refused refused (exit 2), $recovered recovered with a warning, $unused not needed by the resume (a damaged round file refused by eval); failed: ${bad[*]:-none}"

fi

# ---- 5. parser fuzzing -----------------------------------------------------------------------
if want fuzz; then
if [ -x "$fuzz" ]; then
  "$fuzz" --inputs "$fuzz_inputs" --dir "$scratch/fuzz" >"$scratch/fuzz.txt" 2>&1
  rc=$?
  cat "$scratch/fuzz.txt" >&2
  n=$(awk 'NR > 1 && NF >= 7 && $2 ~ /^[0-9]+$/' "$scratch/fuzz.txt" | wc -l)
  total=$(awk 'NR > 1 && NF >= 7 && $2 ~ /^[0-9]+$/ {s += $2} END {print s + 0}' "$scratch/fuzz.txt")
  row "parsers fuzzed ($fuzz_inputs inputs each)" 8 "$([ $rc = 0 ] && echo "$n" || echo 0)" \
    "$total inputs over $n parsers, exit $rc (no crash, hang or stray exception)"
else
  row "parsers fuzzed" 8 0 "$fuzz not built"
fi

fi

# ---- 6. a killed and a stuck rank under mpirun -np 2 -----------------------------------------
if want mpi; then
if command -v mpirun >/dev/null; then
  mpi=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe --bind-to none
       -x OMP_WAIT_POLICY=PASSIVE -x OMP_NUM_THREADS=1)
  for fault in kill stop term; do
    dir=$scratch/mpi_$fault
    "${mpi[@]}" "$bin" run "${micro[@]}" run.dir="$dir" improve.distill.steps=100000 run.dist_timeout_s=10 \
      >"$scratch/mpi_$fault.out" 2>&1 &
    launcher=$!
    for _ in $(seq 1200); do [ -f "$dir/round-0001.tmp/kept.jsonl" ] && break; sleep 0.1; done
    ranks=$(pgrep -d ' ' -P "$launcher" || true)  # the ranks: mpirun's children
    victim=${ranks##* }
    if [ "$(wc -w <<<"$ranks")" != 2 ]; then  # the job did not get as far as the round
      row "ranks under mpirun ($fault)" 1 0 "found $(wc -w <<<"$ranks") rank(s) under mpirun: $(tail -c 300 "$scratch/mpi_$fault.out" | tr '\n' ' ')"
      kill -9 "$launcher" 2>/dev/null; wait "$launcher" 2>/dev/null
      continue
    fi
    t1=$(now)
    case $fault in
      kill) kill -9 "$victim" ;;
      stop) kill -STOP "$victim" ;;
      term) kill -TERM "$launcher" ;;
    esac
    ( sleep 90; kill -9 "$launcher" 2>/dev/null ) & guard=$!
    wait "$launcher"; rc=$?
    kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
    took=$(python3 -c "print(round($(now) - $t1, 1))")
    [ "$fault" = stop ] && kill -CONT "$victim" 2>/dev/null
    # Ranks still running a few seconds after mpirun returned. A rank whose mpirun has exited
    # is reparented and reaped a moment later: a zombie has ended and is not counted.
    for _ in $(seq 50); do
      left=0
      for p in $ranks; do
        state=$(ps -o stat= -p "$p" 2>/dev/null)
        [ -n "$state" ] && [[ $state != Z* ]] && left=$((left + 1))
      done
      [ "$left" = 0 ] && break
      sleep 0.1
    done
    ok=0
    if [ "$rc" != 0 ] && [ "$left" = 0 ] && python3 -c "import sys; sys.exit(0 if $took < 60 else 1)"; then ok=1; fi
    extra=""
    if [ "$fault" = term ]; then
      # mpirun, told to end the job, forwards the signal and then kills the ranks (its exit
      # status is its own): what counts is that every rank stopped at a safe point, said so,
      # and left a run directory that resumes.
      said=$(grep -c "^stopped: SIGTERM: stopped in .*resumes" "$scratch/mpi_$fault.out")
      "$bin" run "${micro[@]}" run.dir="$dir" improve.distill.steps=100000 run.dist_timeout_s=10 --check \
        >"$scratch/mpi_check.out" 2>&1
      check_rc=$?
      [ "$said" = 2 ] && [ "$check_rc" = 0 ] || ok=0
      extra="; ranks that said where they stopped: $said of 2; the run resumes (--check exit $check_rc)"
    fi
    case $fault in
      kill) name="a rank killed (-9) under mpirun -np 2" ;;
      stop) name="a rank stuck (SIGSTOP) under mpirun -np 2" ;;
      term) name="SIGTERM to mpirun -np 2" ;;
    esac
    row "$name" 1 "$ok" "job ended in ${took}s, exit $rc, $left rank(s) left$extra"
    for p in $ranks; do kill -9 "$p" 2>/dev/null; done
  done
else
  row "ranks under mpirun" 1 "-" "skipped: no mpirun"
fi

fi

echo
echo "| fault                                  | trials | held | figure |"
echo "|----------------------------------------|--------|------|--------|"
printf '%s\n' "${rows[@]}"
[ "${KEEP:-0}" = 1 ] || rm -rf "$scratch"
exit $failed
