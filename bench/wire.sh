#!/usr/bin/env bash
# Wire benchmark: `schannel serve` against nginx (Debian's package, its own config on
# 127.0.0.1) and `openssl s_server`, with the same certificate, driven by the same load
# generators over loopback. Rows, each at 1, 16 and 64 concurrent clients:
#   keepalive      wrk, HTTP/1.1 keep-alive requests/s (schannel, nginx)
#   new            wrk with Connection: close: a TLS connection per request, every one a
#                  full handshake (schannel with ServerCacheTime 0, nginx without session
#                  cache nor tickets: wrk would resume otherwise)
#   new-tls13      openssl s_time -new -tls1_3: full TLS 1.3 handshakes, one GET each
#                  (schannel, nginx without resumption, s_server)
#   resumed-tls12  openssl s_time -reuse -tls1_2: resumed TLS 1.2 handshakes, one GET each
#   resumed-tls13  openssl s_time -reuse -tls1_3: resumed TLS 1.3 (tickets), one GET each
#                  (schannel, nginx with its session cache and tickets on, s_server)
# Runs are interleaved (schannel, nginx, [s_server], schannel, ...); the median of ROUNDS
# is printed with the server CPU (user+system of the server's processes) per request and
# the ratios ours/nginx and ours/s_server. s_server answers one request per connection
# (-www) on one thread, so it takes part only in the rows that connect per request. Then
# memory per idle connection at N = 1,000 and 5,000 (ulimit -n raised).
#
#   bench/wire.sh [SECONDS_PER_RUN] [ROUNDS] [ROWS]   (default 5 s, 3 rounds, all rows;
#                                                      ROWS e.g. "resumed-tls12 new")
#   WIRE_CONNS="1 16" WIRE_IDLE="1000" bench/wire.sh 1 1      (a short smoke run; WIRE_IDLE="": none)
#
# Needs: a release build (cargo build --release), nginx, wrk, openssl. Ports 28443-28446, 28449.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
ROWS=${3:-keepalive new new-tls13 resumed-tls12 resumed-tls13}
CONNS=${WIRE_CONNS:-1 16 64}
IDLE=${WIRE_IDLE-1000 5000}
BIN=target/release/schannel
for tool in nginx wrk openssl; do
  command -v $tool >/dev/null || { echo "wire.sh: $tool is missing (apt-get install nginx wrk openssl)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "wire.sh: build first: cargo build --release" >&2; exit 2; }

WORK=$(mktemp -d)
cleanup() {
  # Only the processes this script started, by their pid files.
  kill $(cat "$WORK"/*.pid 2>/dev/null) 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
DATA=$WORK/data

# schannel serve makes its development CA and localhost certificate on first start.
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:28443 --max-connections 8192 >"$WORK/serve.out" 2>"$WORK/serve.err" &
echo $! >"$WORK/schannel.pid"
for _ in $(seq 50); do grep -q "serving https" "$WORK/serve.err" && break; sleep 0.1; done
grep -q "serving https" "$WORK/serve.err" || { cat "$WORK/serve.err"; exit 1; }
CA=$DATA/stores/Root/dev-ca.pem
CERT=$DATA/stores/My/localhost.pem
KEY=$DATA/keys/localhost.key
# The rows of new connections need a server that does not resume: wrk reconnects with the
# session of its previous connection (SSL_clear keeps it), so against the instance above
# every "new" connection would resume. A second serve, same certificate, ServerCacheTime 0.
"$BIN" --data-dir "$WORK/data-full" config set ServerCacheTime 0 >/dev/null
"$BIN" --data-dir "$WORK/data-full" serve --listen 127.0.0.1:28449 --cert "$CERT" --key "$KEY" \
  --max-connections 8192 >"$WORK/serve-full.out" 2>"$WORK/serve-full.err" &
echo $! >"$WORK/schannel-full.pid"
for _ in $(seq 50); do grep -q "serving https" "$WORK/serve-full.err" && break; sleep 0.1; done
grep -q "serving https" "$WORK/serve-full.err" || { cat "$WORK/serve-full.err"; exit 1; }

# nginx with the same certificate and key, answering a body of the size of serve's page.
page=$(curl -s --cacert "$CA" https://127.0.0.1:28443/)
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
  # New connections: every handshake full.
  server {
    listen 127.0.0.1:28444 ssl;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $WORK;
    location / { index index.html; }
  }
  # The resumed rows: nginx as usually deployed, with a session cache and tickets.
  server {
    listen 127.0.0.1:28446 ssl;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
    root $WORK;
    location / { index index.html; }
  }
}
EOF
nginx -c "$WORK/nginx.conf"
# openssl s_server: one process, the same certificate; -www answers each request with a
# status page and closes; session cache and tickets on (its defaults).
openssl s_server -quiet -accept 127.0.0.1:28445 -cert "$CERT" -key "$KEY" -www \
  -naccept 100000000 >"$WORK/s_server.out" 2>&1 </dev/null &
echo $! >"$WORK/s_server.pid"
sleep 0.5

cpu_of() { # user+system clock ticks of a process and its threads/children
  local total=0
  for pid in "$@"; do
    read -r -a f <"/proc/$pid/stat"
    total=$((total + f[13] + f[14]))
  done
  echo $total
}
pids_of() { # server row: this script's servers only, by their pid files (nginx: the master and its workers)
  case $1 in
    schannel) case $2 in new*) cat "$WORK/schannel-full.pid" ;; *) cat "$WORK/schannel.pid" ;; esac ;;
    nginx) local m; m=$(cat "$WORK/nginx.pid"); echo "$m $(pgrep -P "$m" | tr '\n' ' ')" ;;
    s_server) cat "$WORK/s_server.pid" ;;
  esac
}
port_of() { # server row
  case $1 in
    schannel) case $2 in new*) echo 28449 ;; *) echo 28443 ;; esac ;;
    nginx) case $2 in resumed*) echo 28446 ;; *) echo 28444 ;; esac ;;
    s_server) echo 28445 ;;
  esac
}
# s_server answers wrk's requests with HTTP/1.0 and closes: it joins the s_time rows only.
servers_of() { case $1 in keepalive | new) echo "schannel nginx" ;; *) echo "schannel nginx s_server" ;; esac; }

load() { # server row conns -> requests done in SECS
  local server=$1 mode=$2 conns=$3 port
  port=$(port_of "$server" "$mode")
  case $mode in
    keepalive | new)
      local extra=()
      [ "$mode" = new ] && extra=(-H "Connection: close")
      wrk -t "$((conns < 2 ? 1 : 2))" -c "$conns" -d "${SECS}s" "${extra[@]}" "https://127.0.0.1:$port/" 2>&1 |
        awk '/requests in/ {print $1}'
      ;;
    new-tls13 | resumed-tls12 | resumed-tls13)
      # conns s_time clients at once, each for SECS seconds: new handshakes, or each
      # resuming its session.
      local flag how i
      flag=$([ "$mode" = resumed-tls12 ] && echo -tls1_2 || echo -tls1_3)
      how=$([ "$mode" = new-tls13 ] && echo -new || echo -reuse)
      for i in $(seq "$conns"); do
        timeout $((SECS + 20)) openssl s_time -connect "127.0.0.1:$port" "$how" "$flag" -time "$SECS" \
          -www / -CAfile "$CA" >"$WORK/s_time.$i" 2>&1 &
      done
      wait
      # s_time prints one character per connection: r when the session was reused.
      local marks reused
      marks=$(cat "$WORK"/s_time.* | grep -E '^[rt*123]+$' | tr -d '\n' || true)
      reused=$(tr -cd r <<<"$marks" | wc -c)
      if [ "$how" = -reuse ] && [ "${#marks}" -gt 0 ] && [ $((reused * 100)) -lt $((${#marks} * 99)) ]; then
        echo "wire.sh: $mode against $server: only $reused of ${#marks} connections resumed" >&2
      fi
      cat "$WORK"/s_time.* | awk '/connections in/ {n += $1} END {print n + 0}'
      rm -f "$WORK"/s_time.*
      ;;
  esac
}

run() { # server mode conns -> "requests_per_s cpu_us_per_request"
  local server=$1 mode=$2 conns=$3
  local pids before after reqs
  pids=$(pids_of "$server" "$mode")
  before=$(cpu_of $pids)
  reqs=$(load "$server" "$mode" "$conns")
  after=$(cpu_of $pids)
  if [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
    echo "wire.sh: $mode at $conns clients against $server: no request done" >&2
    echo "0 0"
    return
  fi
  awk -v r="$reqs" -v s="$SECS" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f %.1f\n", r / s, (r > 0 ? t / hz * 1e6 / r : 0) }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
med() { [ -s "$WORK/r.$1" ] && cut -d' ' -f"$2" "$WORK/r.$1" | median || echo 0; }

printf '%-14s %5s | %11s %9s | %11s %9s | %11s %9s | %6s %6s | %6s %6s\n' row conns \
  "ours req/s" "ours us/r" "nginx req/s" "nginx us/r" "s_srv req/s" "s_srv us/r" rate cpu rate cpu
for mode in $ROWS; do
  for conns in $CONNS; do
    servers=$(servers_of "$mode")
    for server in schannel nginx s_server; do : >"$WORK/r.$server"; done
    for _ in $(seq "$ROUNDS"); do
      for server in $servers; do run $server "$mode" "$conns" >>"$WORK/r.$server"; done
    done
    awk -v m="$mode" -v c="$conns" -v or="$(med schannel 1)" -v oc="$(med schannel 2)" \
      -v nr="$(med nginx 1)" -v nc="$(med nginx 2)" -v sr="$(med s_server 1)" -v sc="$(med s_server 2)" 'BEGIN {
      f = "%-14s %5d | %11.0f %9.1f | %11.0f %9.1f | %11s %9s | %6.2f %6.2f | %6s %6s\n"
      printf f, m, c, or, oc, nr, nc, (sr > 0 ? sprintf("%.0f", sr) : "-"), (sr > 0 ? sprintf("%.1f", sc) : "-"),
        (nr > 0 ? or / nr : 0), (nc > 0 ? oc / nc : 0),
        (sr > 0 ? sprintf("%.2f", or / sr) : "-"), (sc > 0 ? sprintf("%.2f", oc / sc) : "-") }'
  done
done
# Memory per idle connection (one keep-alive request each, then idle), each server fresh
# from its start above; N = 1,000 and 5,000 (ulimit -n raised).
ulimit -n 65536 2>/dev/null || true
for n in $IDLE; do
  for server in schannel nginx; do
    printf '%-8s idle N=%-5d ' "$server" "$n"
    python3 bench/idle_memory.py "127.0.0.1:$(port_of $server keepalive)" "$n" "$CA" $(pids_of $server keepalive) || echo "(failed)"
  done
done
echo "rate = ours/nginx, then ours/s_server, requests per second (higher is better); cpu = the same ratios of server CPU per request (lower is better)"
echo "new-tls13 and resumed rows: openssl s_time -new / -reuse, one process per client, one GET / per connection"
echo "runs: $ROUNDS interleaved rounds of $SECS s each, medians; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1); $(openssl version)"
