#!/usr/bin/env bash
# Deterministic cost: instructions per operation under valgrind --tool=callgrind, for
# raw rustls and for the provider (its handshake thread and the event log's writer
# thread, counted apart), written to bench/instructions.txt so that commits can be
# compared (git diff bench/instructions.txt).
#
#   bench/callgrind.sh [OUT]        (default bench/instructions.txt; needs valgrind)
#
# For each scenario and side the harness (crates/bench/src/bin/cost.rs) runs twice under
# callgrind, with COUNT = 0 and COUNT = N operations; everything else (PKI, setup, a
# priming handshake, the log opened) is the same in both runs, so (run N - run 0) / N is
# one operation. --separate-threads=yes gives each thread its own total: thread 1 does
# TLS, every other thread is the log's writer (raw has none). Ours logs 36880 on both
# sides of every handshake (EventLogging = 7, flood control off) and commits the run's
# records in one transaction at its end (see cost.rs), so the writer's share is the cost
# of storing two records, commit included.
#
# Instruction counts do not depend on the machine's load; they do depend on the build
# (same toolchain and Cargo.lock to compare) and on valgrind's virtual CPU (aws-lc-rs
# picks its code paths from the CPU features valgrind reports).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench/instructions.txt}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
nice -n 10 cargo build --release -q -p securechannel-bench --bin cost
COST=target/release/cost
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Thread totals of one callgrind run: "main writer" instructions.
count() { # scenario side n
  local tag="$1-$2-$3"
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/$tag" \
    "$COST" "$1" "$2" "$3" >"$WORK/$tag.log" 2>&1 || { cat "$WORK/$tag.log" >&2; exit 1; }
  local main writer=0 f t
  main=$(awk '/^totals:/ {print $2}' "$WORK/$tag-01")
  for f in "$WORK/$tag"-*; do
    case "$f" in *-01) continue ;; esac
    t=$(awk '/^totals:/ {print $2}' "$f")
    writer=$((writer + t))
  done
  echo "$main $writer"
}

# scenario, N, what one operation is
SCENARIOS=(
  "full-tls13 20 full handshake TLS 1.3 ECDSA P-256 X25519"
  "full-tls12 20 full handshake TLS 1.2 ECDSA P-256 X25519"
  "resumed-tls13 40 resumed handshake TLS 1.3 ticket"
  "resumed-tls12 40 resumed handshake TLS 1.2 ticket"
  "bulk-aes128 4 1 MiB encrypted+decrypted, TLS 1.3 AES-128-GCM, 16 KiB records"
)

{
  echo "# Instructions per operation (valgrind --tool=callgrind), written by bench/callgrind.sh."
  echo "# measured on $(git log -1 --format='commit %h %cs' 2>/dev/null || echo 'commit unknown')$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' plus uncommitted changes'), rustls $(awk '/^name = "rustls"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock), $(valgrind --version), $(rustc --version)"
  echo "# raw: rustls unbuffered; ours: the provider's thread doing TLS; writer: the event log's"
  echo "# thread storing ours' events (two 36880 per handshake, one commit per run)."
  printf '%-14s %12s %12s %12s %12s %9s %9s  %s\n' scenario raw ours writer ours+writer ours/raw +w/raw operation
} >"$WORK/table"
for s in "${SCENARIOS[@]}"; do
  read -r name n what <<<"$s"
  echo "callgrind.sh: $name ($what) x $n ..." >&2
  read -r r0 _ <<<"$(count "$name" raw 0)"
  read -r rn _ <<<"$(count "$name" raw "$n")"
  read -r o0 w0 <<<"$(count "$name" ours 0)"
  read -r on wn <<<"$(count "$name" ours "$n")"
  awk -v name="$name" -v n="$n" -v what="$what" -v r0="$r0" -v rn="$rn" -v o0="$o0" -v on="$on" -v w0="$w0" -v wn="$wn" 'BEGIN {
    raw = (rn - r0) / n; ours = (on - o0) / n; w = (wn - w0) / n;
    printf "%-14s %12.0f %12.0f %12.0f %12.0f %9.3f %9.3f  %s\n", name, raw, ours, w, ours + w, ours / raw, (ours + w) / raw, what
  }' >>"$WORK/table"
done
{
  echo "# ours/raw and +w/raw: instructions of ours (and with the writer's) over raw's; 1.000 = no extra work."
  echo "# Run to run, the same build varies by up to ~1.5% (fresh keys, tickets and hash seeds each run);"
  echo "# a change smaller than that is not a change. Up to f3d9357 raw's drive loop zero-filled"
  echo "# 4 KiB per flight (~30k instructions of a resumed TLS 1.2 handshake); since, only what it writes."
  echo "# The writer column is bimodal: in some runs glibc consolidates its heap once (malloc_consolidate,"
  echo "# ~40k instructions), which adds up to ~2k per handshake; compare it over repeated runs."
} >>"$WORK/table"
cp "$WORK/table" "$OUT"
cat "$OUT"
