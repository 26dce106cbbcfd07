#!/usr/bin/env bash
# Follow-up read latency through the gateway (issue 7's target: p50 under 10 ms):
# a patient timeline of 20 studies × 10 lesions, and the list of 10,000 patients.
#   swift build -c release --product metis
#   swift build -c release --package-path Benchmarks --product tracking-populate
#   Benchmarks/Scripts/tracking_latency.sh [.build/release/metis] [Benchmarks/.build/release/tracking-populate]
set -euo pipefail
metis=${1:-.build/release/metis}
populate=${2:-Benchmarks/.build/release/tracking-populate}
data=$(mktemp -d)
port=18473
"$metis" up --data "$data" --port "$port" --model none --auth none --log-level warning > "$data/up.log" 2>&1 &
up=$!
trap 'kill $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.5; done
"$populate" "$data/run/tracking.sock" 10000
for url in "/api/v1/patients/BENCH-TIMELINE/timeline" "/api/v1/patients" "/followup-patients"; do
    bytes=$(curl -s "http://127.0.0.1:$port$url" | wc -c)
    echo "== GET $url ($bytes bytes), 1 connection, 10 s"
    wrk -t1 -c1 -d10s --latency "http://127.0.0.1:$port$url" | grep -E "50%|90%|99%|Requests/sec"
done
# The list as a client sees it after a change: each distinct page is a list the
# gateway has not written yet (metis-tracking sends all 10,001 patients again).
echo "== GET /api/v1/patients, a list the gateway has not cached, 40 requests"
for i in $(seq 1 40); do
    curl -s -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$port/api/v1/patients?limit=$((20000 + i))"
done | sort -n | awk '{ t[NR] = $1 } END { printf "     50%%   %.2fms\n     90%%   %.2fms\n", t[int(NR * 0.5)] * 1000, t[int(NR * 0.9)] * 1000 }'
