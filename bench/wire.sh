#!/usr/bin/env bash
# Wire benchmark: `schannel serve` against nginx (Debian's package, its own config on
# 127.0.0.1) with the same certificate, driven by the same load generator (wrk) over
# loopback. Rows: keep-alive requests/s and new TLS connections/s (Connection: close), at
# 1, 16 and 64 concurrent clients; runs interleaved (schannel, nginx, schannel, ...), the
# median of ROUNDS printed with the server CPU (user+system of the server's processes)
# per request, and the ratio ours/nginx.
#
#   bench/wire.sh [SECONDS_PER_RUN] [ROUNDS]      (default 5 s, 3 rounds)
#
# Needs: a release build (cargo build --release), nginx, wrk. Uses ports 28443/28444.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
BIN=target/release/schannel
for tool in nginx wrk; do
  command -v $tool >/dev/null || { echo "wire.sh: $tool is missing (apt-get install nginx wrk)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "wire.sh: build first: cargo build --release" >&2; exit 2; }

WORK=$(mktemp -d)
cleanup() {
  kill $(cat "$WORK"/*.pid 2>/dev/null) 2>/dev/null || true
  sleep 0.5
  pkill -f "nginx -c $WORK/nginx.conf" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
DATA=$WORK/data

# schannel serve makes its development CA and localhost certificate on first start.
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:28443 --max-connections 4096 >"$WORK/serve.out" 2>"$WORK/serve.err" &
echo $! >"$WORK/schannel.pid"
for _ in $(seq 50); do grep -q "serving https" "$WORK/serve.err" && break; sleep 0.1; done
grep -q "serving https" "$WORK/serve.err" || { cat "$WORK/serve.err"; exit 1; }

# nginx with the same certificate and key, answering a body of the size of serve's page.
page=$(curl -s --cacert "$DATA/stores/Root/dev-ca.pem" https://127.0.0.1:28443/)
printf '%s' "$page" >"$WORK/index.html"
cat >"$WORK/nginx.conf" <<EOF
worker_processes $(nproc);
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000;
  keepalive_timeout 30s;
  server {
    listen 127.0.0.1:28444 ssl;
    ssl_certificate $DATA/stores/My/localhost.pem;
    ssl_certificate_key $DATA/keys/localhost.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $WORK;
    location / { index index.html; }
  }
}
EOF
nginx -c "$WORK/nginx.conf"
sleep 0.3

cpu_of() { # user+system clock ticks of a process and its threads/children
  local total=0
  for pid in "$@"; do
    read -r -a f <"/proc/$pid/stat"
    total=$((total + f[13] + f[14]))
  done
  echo $total
}
pids_of() {
  case $1 in
    schannel) cat "$WORK/schannel.pid" ;;
    nginx) pgrep -f "nginx: (master|worker) process" | tr '\n' ' ' ;;
  esac
}
port_of() { case $1 in schannel) echo 28443 ;; nginx) echo 28444 ;; esac; }

run() { # server mode conns -> "requests_per_s cpu_us_per_request"
  local server=$1 mode=$2 conns=$3 extra=()
  [ "$mode" = new ] && extra=(-H "Connection: close")
  local pids before after out reqs
  pids=$(pids_of "$server")
  before=$(cpu_of $pids)
  out=$(wrk -t "$(( conns < 2 ? 1 : 2 ))" -c "$conns" -d "${SECS}s" "${extra[@]}" "https://127.0.0.1:$(port_of "$server")/" 2>&1)
  after=$(cpu_of $pids)
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "$reqs" ] || { echo "wrk failed: $out" >&2; echo "0 0"; return; }
  awk -v r="$reqs" -v s="$SECS" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f %.1f\n", r / s, (r > 0 ? t / hz * 1e6 / r : 0) }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-10s %5s | %12s %10s | %12s %10s | %8s %8s\n' row conns "ours req/s" "ours µs/r" "nginx req/s" "nginx µs/r" "rate" "cpu"
for mode in keepalive new; do
  for conns in 1 16 64; do
    : >"$WORK/r.schannel"; : >"$WORK/r.nginx"
    for _ in $(seq "$ROUNDS"); do
      for server in schannel nginx; do run $server $mode "$conns" >>"$WORK/r.$server"; done
    done
    or=$(cut -d' ' -f1 "$WORK/r.schannel" | median); oc=$(cut -d' ' -f2 "$WORK/r.schannel" | median)
    nr=$(cut -d' ' -f1 "$WORK/r.nginx" | median); nc=$(cut -d' ' -f2 "$WORK/r.nginx" | median)
    awk -v m=$mode -v c="$conns" -v or="$or" -v oc="$oc" -v nr="$nr" -v nc="$nc" 'BEGIN {
      printf "%-10s %5d | %12.0f %10.1f | %12.0f %10.1f | %8.2f %8.2f\n", m, c, or, oc, nr, nc,
        (nr > 0 ? or / nr : 0), (nc > 0 ? oc / nc : 0) }'
  done
done
# Memory per idle connection (one keep-alive request each, then idle), each server fresh
# from its start above; N = 1,000 and 5,000 (ulimit -n raised).
ulimit -n 65536 2>/dev/null || true
for n in 1000 5000; do
  for server in schannel nginx; do
    printf '%-8s idle N=%-5d ' "$server" "$n"
    python3 bench/idle_memory.py "127.0.0.1:$(port_of $server)" "$n" "$DATA/stores/Root/dev-ca.pem" $(pids_of $server) || echo "(failed)"
  done
done
echo "rate = ours/nginx requests per second (higher is better); cpu = ours/nginx server CPU per request (lower is better)"
echo "runs: $ROUNDS interleaved rounds of $SECS s each, medians; $(nproc) cores; $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1)"
