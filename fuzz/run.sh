#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60), one after the other, from the
# committed seeds (corpus/<target>/seed-*) plus whatever earlier runs found. Prints the
# executions per target; exits 1 if any target crashed (the input is in artifacts/<target>/,
# reproduce with `cargo fuzz run <target> artifacts/<target>/<file>`).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); works on stable through RUSTC_BOOTSTRAP=1.
set -uo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}
shift || true
# smoke: deterministic (fixed seed, a fixed number of runs from the committed seeds only),
# so a run that passes here passes in CI.
limit=(-max_total_time="$SECS")
if [ "$SECS" = smoke ]; then
  limit=(-seed=1 -runs=5000)
fi
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
# -max_len per target: hellos and flights need room for large messages.
max_len() {
  case $1 in
    client_hello|server_flight|client_flight|decrypt_records) echo 20000 ;;
    *) echo 4096 ;;
  esac
}
# FUZZ_SANITIZER=none builds without AddressSanitizer (much faster; CI's smoke run).
san=(-s "${FUZZ_SANITIZER:-address}")
cargo fuzz build -O "${san[@]}" || exit 2
failed=0
printf '%-18s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  corpus=("corpus/$t")
  if [ "$SECS" = smoke ]; then
    # Only the committed seeds: a fresh copy, so the run is the same everywhere.
    corpus=("$(mktemp -d)")
    cp corpus/"$t"/seed-* "${corpus[0]}"/
  fi
  cargo fuzz run -O "${san[@]}" "$t" "${corpus[@]}" -- "${limit[@]}" -max_len="$(max_len "$t")" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="CRASH (exit $rc): $(grep -m1 -E 'panicked|ERROR: AddressSanitizer|deadly signal' "$log")"
    failed=1
    tail -40 "$log" >&2
  fi
  printf '%-18s %12s %10s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
  rm -f "$log"
done
exit $failed
