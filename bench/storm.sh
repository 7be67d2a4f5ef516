#!/usr/bin/env bash
# The log under a storm: COUNT refused handshakes in a burst against `schannel serve`
# (TLS 1.3 disabled on the server, rustls clients offering TLS 1.3 only), while a
# well-behaved TLS 1.2 client (curl) measures its latency. Then serve is stopped (flood
# control writes its summaries) and the log is counted: for each event ID, the records
# stored one by one plus the copies the summaries fold must equal the refused handshakes
# the clients saw — exactly. Prints the log's size too.
#
#   bench/storm.sh [COUNT] [CONCURRENCY]        (default 100000, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
CONC=${2:-64}
cargo build --release -q -p schannel -p securechannel-bench
BIN=target/release/schannel
STORM=target/release/storm
WORK=$(mktemp -d)
cleanup() { kill "$(cat "$WORK/serve.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
DATA=$WORK/data
PORT=28445
"$BIN" --data-dir "$DATA" config set 'Protocols\TLS 1.3\Server\Enabled' 0 >/dev/null
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT --max-connections 4096 >"$WORK/serve.out" 2>"$WORK/serve.err" &
echo $! >"$WORK/serve.pid"
for _ in $(seq 100); do grep -q "serving https" "$WORK/serve.err" && break; sleep 0.1; done
grep -q "serving https" "$WORK/serve.err" || { cat "$WORK/serve.err"; exit 1; }
CA=$DATA/stores/Root/dev-ca.pem

latency() { # N requests, 0.1 s apart: p50 and p99 of curl's time_total in ms
  local n=$1
  for _ in $(seq "$n"); do
    curl -s -o /dev/null --tlsv1.2 --tls-max 1.2 --cacert "$CA" -w '%{time_total}\n' "https://localhost:$PORT/" || echo 10
    sleep 0.1
  done | sort -n | awk '{a[NR]=$1*1000} END {printf "p50 %.1f ms, p99 %.1f ms (%d requests)", a[int(NR*0.5)+1], a[int(NR*0.99)+ (NR*0.99==int(NR*0.99)?0:1)], NR}'
}
echo "well-behaved client, no storm:   $(latency 30)"
"$STORM" "127.0.0.1:$PORT" "$COUNT" "$CONC" >"$WORK/storm.out" &
storm=$!
sleep 0.5
echo "well-behaved client, in storm:   $(latency 30)"
wait $storm
cat "$WORK/storm.out"
refused=$(awk '/^refused/ {print $2}' "$WORK/storm.out")
echo "serve while running: $(grep -c . "$WORK/serve.out" || true) access lines; RSS $(awk '/VmRSS/ {print $2, $3}' /proc/"$(cat "$WORK/serve.pid")"/status)"
kill -TERM "$(cat "$WORK/serve.pid")"
wait "$(cat "$WORK/serve.pid")" 2>/dev/null || true
tail -n 1 "$WORK/serve.err"
echo "log: $(du -k "$DATA/events.db" | cut -f1) KiB ($(du -k "$DATA"/events.db* | awk '{s+=$1} END {print s}') KiB with -wal/-shm)"
"$BIN" --data-dir "$DATA" events --oldest-first --format json >"$WORK/events.jsonl"
python3 - "$WORK/events.jsonl" "$refused" <<'EOF'
import json, sys
from collections import defaultdict
path, refused = sys.argv[1], int(sys.argv[2])
one, folded, summaries = defaultdict(int), defaultdict(int), defaultdict(int)
for line in open(path):
    r = json.loads(line)
    i = r["EventID"]
    if "Folded" in r:
        folded[i] += r["Folded"]["Count"]
        summaries[i] += 1
    elif "NotStored" in r:
        print(f"  {i}: {r['NotStored']['Count']} NOT STORED")
        folded[i] += r["NotStored"]["Count"]
    else:
        one[i] += 1
ok = True
print(f"{'event':>6} {'one by one':>11} {'summaries':>10} {'folded copies':>14} {'total':>8}  refused handshakes the clients saw: {refused}")
for i in sorted(set(one) | set(folded)):
    total = one[i] + folded[i]
    mark = "exact" if total == refused else "MISMATCH"
    ok &= total == refused
    print(f"{i:>6} {one[i]:>11} {summaries[i]:>10} {folded[i]:>14} {total:>8}  {mark}")
print("every refused handshake is counted exactly" if ok and one else "COUNTS DO NOT ADD UP")
sys.exit(0 if ok and one else 1)
EOF
