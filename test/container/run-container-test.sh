#!/usr/bin/env bash
# Container smoke test: builds the image from the Dockerfile, runs it and checks that
#   - the service runs as a non-root user,
#   - the image's HEALTHCHECK (GET /readyz) passes,
#   - the web console (built into dist/web) is served at /,
#   - POST /classify (multipart, field "file") returns the CSV with the three new columns and one
#     row per input row,
#   - `stop` (SIGTERM) sent while a large upload is being classified lets that request finish
#     (HTTP 200, every row), then the process exits with code 0 within the stop timeout and logs
#     the shutdown.
#
# Usage:  npm run test:container            (or: bash test/container/run-container-test.sh)
# Engine: podman via ../shared/tools/container-base.sh when that script exists (machines without
#         a Docker engine), else docker, else podman from PATH.
# Env:    IMAGE=logsift:container-test   image tag to build/run
#         SKIP_BUILD=1                   reuse an already built $IMAGE
#         STOP_TIMEOUT=20                seconds `stop` waits before SIGKILL
#         READY_TIMEOUT=180              seconds to wait for the health check to pass
#         MODEL_MIRROR=DIR               folder holding all-MiniLM-L6-v2/ to build with (copied to
#                                        models-mirror/ for the build, then removed); defaults to
#                                        ../shared/models when it exists and models-mirror/ does not
#         INFLIGHT_ROWS=100000           rows of the upload in flight when SIGTERM is sent
#         INFLIGHT_DELAY=0.5             seconds between sending it and `stop`
#         KEEP_CONTAINER=1               leave the container behind for debugging
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

IMAGE=${IMAGE:-logsift:container-test}
NAME=logsift-ctest-$$
STOP_TIMEOUT=${STOP_TIMEOUT:-20}
READY_TIMEOUT=${READY_TIMEOUT:-180}
INFLIGHT_ROWS=${INFLIGHT_ROWS:-100000}
INFLIGHT_DELAY=${INFLIGHT_DELAY:-0.5}
SHARED_BASE="$ROOT/../shared/tools/container-base.sh"

RESULTS=()
FAILED=0
pass() { RESULTS+=("PASS  $1"); echo "  PASS: $1"; }
fail() { RESULTS+=("FAIL  $1"); echo "  FAIL: $1" >&2; FAILED=1; }
step() { echo; echo "== $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

summary() {
  echo
  echo "================ container test summary ================"
  for r in "${RESULTS[@]}"; do echo "  $r"; done
  [ -n "${IMAGE_SIZE:-}" ] && echo "  image: $IMAGE  size: $IMAGE_SIZE"
  [ -n "${BUILD_SECS:-}" ] && echo "  build time: ${BUILD_SECS}s"
  if [ "$FAILED" = 0 ] && [ "${#RESULTS[@]}" -gt 0 ]; then echo "  RESULT: PASS"; else echo "  RESULT: FAIL"; fi
  echo "========================================================"
}

TMP=$(mktemp -d)
CREATED_MIRROR=""
CONTAINER_STARTED=""
cleanup() {
  if [ -n "$CONTAINER_STARTED" ] && [ -z "${KEEP_CONTAINER:-}" ]; then
    $ENGINE rm -f "$NAME" >/dev/null 2>&1 || true
  fi
  [ -n "$CREATED_MIRROR" ] && rm -rf "$CREATED_MIRROR"
  rm -rf "$TMP"
}
abort() { fail "$1"; summary; exit 1; }

# ------------------------------------------------------------------------------------ engine
step "container engine"
NETWORK_HOST=""
if [ -f "$SHARED_BASE" ]; then
  echo "using podman set up by $SHARED_BASE"
  if ! bash "$SHARED_BASE" >"$TMP/base.log" 2>&1; then cat "$TMP/base.log" >&2; ENGINE=true; abort "setting up podman with $SHARED_BASE"; fi
  CONTAINERS_CONF=$(bash "$SHARED_BASE" --conf)
  export CONTAINERS_CONF
  ENGINE=podman
  NETWORK_HOST=1 # that configuration runs containers in the host's network namespace
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  ENGINE=docker
elif command -v podman >/dev/null 2>&1; then
  ENGINE=podman
else
  echo "No container engine: install Docker or podman (or provide ../shared/tools/container-base.sh)." >&2
  exit 2
fi
trap cleanup EXIT
for tool in curl node; do
  command -v "$tool" >/dev/null 2>&1 || abort "$tool is needed on the host to run this test"
done
echo "engine: $ENGINE ($($ENGINE --version 2>/dev/null | head -1))"

# ------------------------------------------------------------------------------------- build
if [ -z "${SKIP_BUILD:-}" ]; then
  step "build $IMAGE"
  if [ -z "${MODEL_MIRROR:-}" ] && [ -d "$ROOT/../shared/models/all-MiniLM-L6-v2" ]; then MODEL_MIRROR="$ROOT/../shared/models"; fi
  if [ -n "${MODEL_MIRROR:-}" ] && [ ! -e models-mirror ]; then
    if [ -d "$MODEL_MIRROR/all-MiniLM-L6-v2" ]; then
      CREATED_MIRROR="$ROOT/models-mirror"
      mkdir -p models-mirror && cp -r "$MODEL_MIRROR/all-MiniLM-L6-v2" models-mirror/
      echo "model mirror for this build: $MODEL_MIRROR/all-MiniLM-L6-v2 (copied to models-mirror/, removed afterwards)"
    else
      echo "MODEL_MIRROR=$MODEL_MIRROR has no all-MiniLM-L6-v2/: building without a mirror"
    fi
  fi
  build_args=(build -t "$IMAGE")
  [ "$ENGINE" = podman ] && build_args+=(--format docker) # OCI format would drop HEALTHCHECK
  [ -n "$NETWORK_HOST" ] && build_args+=(--network host)
  t0=$(now)
  if $ENGINE "${build_args[@]}" . 2>&1 | tee "$TMP/build.log"; then
    BUILD_SECS=$(secs "$t0" "$(now)")
    pass "image builds (${BUILD_SECS}s)"
  else
    BUILD_SECS=$(secs "$t0" "$(now)")
    abort "image build failed after ${BUILD_SECS}s (log above)"
  fi
  if [ -n "$CREATED_MIRROR" ]; then rm -rf "$CREATED_MIRROR"; CREATED_MIRROR=""; fi
else
  step "reusing image $IMAGE (SKIP_BUILD)"
  $ENGINE image inspect "$IMAGE" >/dev/null 2>&1 || abort "image $IMAGE does not exist"
fi
bytes=$($ENGINE image inspect --format '{{.Size}}' "$IMAGE" 2>/dev/null || echo 0)
IMAGE_SIZE=$(awk -v b="$bytes" 'BEGIN { printf "%.0f MB (%d bytes)", b / 1e6, b }')
echo "image size: $IMAGE_SIZE"
if [ "$($ENGINE image inspect --format '{{if .Config.Healthcheck}}yes{{end}}' "$IMAGE" 2>/dev/null)" = yes ]; then
  pass "image declares a HEALTHCHECK"
else
  fail "image has no HEALTHCHECK (podman: build with --format docker)"
fi

# --------------------------------------------------------------------------------------- run
step "run"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
run_args=(run -d --name "$NAME" -e PORT="$PORT" -e LOG_LEVEL=info)
if [ -n "$NETWORK_HOST" ]; then run_args+=(--network host); else run_args+=(-p "127.0.0.1:$PORT:$PORT"); fi
$ENGINE rm -f "$NAME" >/dev/null 2>&1 || true
t_run=$(now)
if ! $ENGINE "${run_args[@]}" "$IMAGE" >"$TMP/cid" 2>"$TMP/run.err"; then
  cat "$TMP/run.err" >&2
  abort "container did not start"
fi
CONTAINER_STARTED=1
echo "container $NAME on port $PORT"
grep -v '^$' "$TMP/run.err" >&2 || true

running() { [ "$($ENGINE inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ]; }
show_logs() { echo "---- container logs ----"; $ENGINE logs "$NAME" 2>&1 | tail -n "${1:-40}"; echo "------------------------"; }

# ----------------------------------------------------------------------------- health check
step "health check"
healthy=""
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ! running; then show_logs; abort "container exited before becoming healthy (exit code $($ENGINE inspect --format '{{.State.ExitCode}}' "$NAME"))"; fi
  if [ "$ENGINE" = podman ]; then
    # runs the image's HEALTHCHECK command now (no systemd timer needed) and records the result
    if $ENGINE healthcheck run "$NAME" >/dev/null 2>&1; then healthy=1; break; fi
  else
    [ "$($ENGINE inspect --format '{{.State.Health.Status}}' "$NAME" 2>/dev/null)" = healthy ] && { healthy=1; break; }
  fi
  sleep 1
done
if [ -n "$healthy" ]; then
  status=$($ENGINE inspect --format '{{.State.Health.Status}}' "$NAME" 2>/dev/null || $ENGINE inspect --format '{{.State.Healthcheck.Status}}' "$NAME" 2>/dev/null)
  pass "HEALTHCHECK passes after $(secs "$t_run" "$(now)")s (status: ${status:-?})"
else
  show_logs
  abort "HEALTHCHECK did not pass within ${READY_TIMEOUT}s"
fi
readyz=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/readyz" || true)
echo "readyz: $(printf '%s' "$readyz" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const j=JSON.parse(s);console.log(JSON.stringify({status:j.status,embedder:j.embedder,rules:j.rules,labels:(j.labels||[]).length,llm:j.llm,loadMs:j.loadMs}))}catch{console.log(s)}})")"

# ---------------------------------------------------------------------------- web console
# The image carries the built console (dist/web): `/` is its page, and its script is served.
step "web console at /"
page=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/" || true)
script=$(printf '%s' "$page" | grep -o '/assets/app-[A-Za-z0-9_-]*\.js' | head -1)
script_code=$( [ -n "$script" ] && curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$script" || echo none)
if [ -n "$script" ] && [ "$script_code" = 200 ]; then
  pass "the web console is served at / ($script: HTTP $script_code)"
else
  fail "the web console is not served at / (script '${script}', HTTP ${script_code})"
fi

# ---------------------------------------------------------------------------------- non-root
step "user"
exec_uid=$($ENGINE exec "$NAME" id -u 2>/dev/null | tr -d '\r')
pid1_uid=$($ENGINE exec "$NAME" sh -c "awk '/^Uid:/ {print \$2}' /proc/1/status" 2>/dev/null | tr -d '\r')
pid1_cmd=$($ENGINE exec "$NAME" sh -c "tr '\0' ' ' </proc/1/cmdline" 2>/dev/null)
echo "exec uid: ${exec_uid:-?}  PID 1 uid: ${pid1_uid:-?}  PID 1: ${pid1_cmd:-?}"
if [ -n "$exec_uid" ] && [ "$exec_uid" != 0 ] && [ -n "$pid1_uid" ] && [ "$pid1_uid" != 0 ]; then
  pass "runs as non-root (uid $pid1_uid)"
else
  fail "runs as root or uid unknown (exec uid '${exec_uid}', PID 1 uid '${pid1_uid}')"
fi

# ------------------------------------------------------------------------- onnx in the image
# The image prunes onnxruntime-node to this platform and skips install scripts: check that the
# onnx embedder still loads and runs, with the random-weight MiniLM-shaped test model if present.
SHAPED="$ROOT/../shared/models/minilm-l6-shaped-random"
if [ -f "$SHAPED/onnx/model_quantized.onnx" ]; then
  step "onnx embedder inside the image (random-weight test model, mounted read-only)"
  if out=$($ENGINE run --rm --network none -v "$SHAPED:/test-model:ro" "$IMAGE" node --input-type=module -e "
      const { createOnnxEmbedder } = await import('/app/dist/embedding/onnx.js');
      const e = await createOnnxEmbedder({ modelDir: '/test-model', modelFile: 'onnx/model_quantized.onnx', threads: 1, maxSeqLength: 64, batchSize: 8 });
      const v = await e.embed(['disk full on /var', 'user 42 logged in']);
      const norm = Math.hypot(...v[0]);
      await e.close?.();
      if (v.length !== 2 || v[0].length !== 384 || Math.abs(norm - 1) > 1e-3) throw new Error('bad embedding: ' + v.length + 'x' + v[0].length + ' norm ' + norm);
      console.log('ok ' + v.length + 'x' + v[0].length + ' norm ' + norm.toFixed(4));
    " 2>&1); then
    pass "onnx embedder runs in the image ($(echo "$out" | grep '^ok' | tail -1))"
  else
    echo "$out" | tail -15 >&2
    fail "onnx embedder does not run in the image"
  fi
fi

# ---------------------------------------------------------------------------------- classify
step "POST /classify"
cat >"$TMP/in.csv" <<'CSV'
source,log_message
ModernCRM,"User User123 logged in."
ModernHR,"Account 6454 locked after repeated wrong passwords"
BillingSystem,"GET /v2/7e3c9a0b5d2f4e6a8c1b3d5f7a9e0c2b/servers/detail HTTP/1.1"" status: 200 len: 2048 time: 0.3141592"
AnalyticsEngine,"System crashed due to disk I/O failure, node 7 is down"
ModernCRM,"Backup completed in 42 minutes."
LegacyCRM,"Plugin 'CsvBridge' is going away in release 4.0; switch to 'ExportHub'."
ThirdPartyAPI,"SMTP relay refused outgoing mail for the billing queue"
CSV
in_rows=7
code=$(curl -sS --max-time 60 -o "$TMP/out.csv" -w '%{http_code}' -F "file=@$TMP/in.csv;type=text/csv" "http://127.0.0.1:$PORT/classify" 2>"$TMP/curl.err" || true)
echo "HTTP $code"
cat "$TMP/out.csv" 2>/dev/null; echo
if [ "$code" != 200 ]; then
  cat "$TMP/curl.err" >&2
  fail "/classify answered HTTP ${code:-none}"
else
  # Parse the CSV properly (quoted fields, doubled quotes) and check header, rows and values.
  if check=$(node - "$TMP/in.csv" "$TMP/out.csv" <<'JS' 2>&1
const fs = require('node:fs');
function parse(text) {
  const rows = []; let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') { if (text[i + 1] === '"') { field += '"'; i++; } else q = false; }
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
const [input, output] = process.argv.slice(2).map((f) => parse(fs.readFileSync(f, 'utf8')));
const problems = [];
const want = [...input[0], 'target_label', 'label_stage', 'confidence'];
if (JSON.stringify(output[0]) !== JSON.stringify(want)) problems.push(`header ${JSON.stringify(output[0])}, expected ${JSON.stringify(want)}`);
const inRows = input.slice(1), outRows = output.slice(1);
if (outRows.length !== inRows.length) problems.push(`${outRows.length} data rows out, ${inRows.length} in`);
const stages = new Set(['regex', 'embedding', 'llm', 'fallback']);
outRows.forEach((r, i) => {
  if (r.length !== want.length) problems.push(`row ${i + 1}: ${r.length} fields`);
  if (inRows[i] && (r[0] !== inRows[i][0] || r[1] !== inRows[i][1])) problems.push(`row ${i + 1}: input fields not echoed in order`);
  if (!r[2]) problems.push(`row ${i + 1}: empty target_label`);
  if (!stages.has(r[3])) problems.push(`row ${i + 1}: label_stage "${r[3]}"`);
  const c = Number(r[4]);
  if (r[4] === '' || !(c >= 0 && c <= 1)) problems.push(`row ${i + 1}: confidence "${r[4]}"`);
});
const byStage = {};
for (const r of outRows) byStage[r[3]] = (byStage[r[3]] || 0) + 1;
if (problems.length) { console.log(problems.join('\n')); process.exit(1); }
console.log(`${outRows.length} rows, stages ${JSON.stringify(byStage)}`);
JS
  ); then
    pass "/classify returns the CSV with target_label,label_stage,confidence and $in_rows rows ($check)"
  else
    echo "$check" >&2
    fail "/classify output is wrong: $(echo "$check" | head -3 | tr '\n' ';')"
  fi
fi

# --------------------------------------------------------------------------------------- stop
step "stop (SIGTERM) with a request in flight"
# A large upload is sent, and SIGTERM arrives while it is being classified: it must still get its
# full answer (Fastify's close() lets in-flight requests finish), then the process exits 0.
node -e "
  const n = Number(process.argv[1]); const out = ['source,log_message'];
  for (let i = 0; i < n; i++) out.push('svc-' + (i % 7) + ',\"job ' + i + ' on host-' + (i * 7919 % 1000) + ' finished step ' + (i % 13) + ' after ' + (i % 97) + ' ms\"');
  require('node:fs').writeFileSync(process.argv[2], out.join('\\n') + '\\n');
" "$INFLIGHT_ROWS" "$TMP/big.csv"
curl -sS --max-time 120 -o "$TMP/big.out" -w '%{http_code}' -H 'content-type: text/csv' --data-binary "@$TMP/big.csv" \
  "http://127.0.0.1:$PORT/classify" >"$TMP/big.code" 2>"$TMP/big.err" &
curl_pid=$!
sleep "$INFLIGHT_DELAY"
t_stop=$(now)
$ENGINE stop -t "$STOP_TIMEOUT" "$NAME" >/dev/null 2>"$TMP/stop.err" || cat "$TMP/stop.err" >&2
stop_secs=$(secs "$t_stop" "$(now)")
exit_code=$($ENGINE inspect --format '{{.State.ExitCode}}' "$NAME" 2>/dev/null)
$ENGINE logs "$NAME" >"$TMP/logs.txt" 2>&1 || true
echo "stopped in ${stop_secs}s, exit code ${exit_code:-?}"
echo "---- last log lines ----"; tail -n 6 "$TMP/logs.txt"; echo "------------------------"
if [ "$exit_code" = 0 ] && awk -v s="$stop_secs" -v t="$STOP_TIMEOUT" 'BEGIN { exit !(s < t) }'; then
  pass "SIGTERM: exits with code 0 in ${stop_secs}s (limit ${STOP_TIMEOUT}s)"
else
  fail "SIGTERM: exit code ${exit_code:-?} after ${stop_secs}s (limit ${STOP_TIMEOUT}s; 137 = killed after the timeout)"
fi
wait "$curl_pid" 2>/dev/null
big_code=$(cat "$TMP/big.code" 2>/dev/null)
big_rows=$(( $(wc -l <"$TMP/big.out" 2>/dev/null || echo 1) - 1 ))
# Was the request still running when SIGTERM came? (its log line comes after the SIGTERM line)
inflight=$(awk '/SIGTERM/ && !s { s = NR } /"url":"\/classify"/ && /"rows":/ { c = NR } END { print (s && c > s) ? "yes" : "no" }' "$TMP/logs.txt")
echo "in-flight upload of $INFLIGHT_ROWS rows: HTTP ${big_code:-none}, $big_rows rows back, still running at SIGTERM: $inflight"
if [ "$big_code" = 200 ] && [ "$big_rows" = "$INFLIGHT_ROWS" ]; then
  if [ "$inflight" = yes ]; then
    pass "request in flight at SIGTERM completes ($INFLIGHT_ROWS rows, HTTP 200)"
  else
    RESULTS+=("SKIP  in-flight request: it finished before SIGTERM (raise INFLIGHT_ROWS or lower INFLIGHT_DELAY)")
  fi
else
  cat "$TMP/big.err" >&2
  fail "request in flight at SIGTERM: HTTP ${big_code:-none}, $big_rows of $INFLIGHT_ROWS rows"
fi
if grep -q 'SIGTERM' "$TMP/logs.txt"; then
  pass "logs show the graceful shutdown ($(grep -m1 -o '"msg":"[^"]*SIGTERM[^"]*"' "$TMP/logs.txt" || echo SIGTERM))"
else
  fail "logs do not mention SIGTERM (no graceful shutdown logged)"
fi

summary
exit "$FAILED"
