#!/usr/bin/env bash
# Soak: `schannel serve` holding 1,000 open TLS connections while a handshake loop runs
# beside them for SECONDS (default 300); prints serve's descriptors, resident memory and
# the event log's size every 2 s, and fails if any of them does not stay flat (see
# crates/cli/tests/soak.rs, which CI runs for 20 s).
#
#   bench/soak.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 8192 2>/dev/null || true
SOAK_SECONDS=${1:-300} cargo test --release -q -p schannel --test soak -- --nocapture
