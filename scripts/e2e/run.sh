#!/usr/bin/env bash
# The e2e tier (`npm run test:e2e`): a real VS Code (code-server) in a real browser (Debian Chromium,
# driven by playwright-core), offline.
#
#   setup.sh (idempotent) → build → package the .vsix (cached by content) → throwaway profile + extension
#   install → code-server on 127.0.0.1 → flow.mjs once per colour theme → screenshots in test-output/e2e/.
#
# Env: E2E_THEMES="dark light hc" (subset allowed), E2E_OUT=test-output/e2e, E2E_DIR=.e2e, E2E_TIMEOUT_MS.
# Exit status 0 only when every theme's flow passed; a failure leaves a *failure.png and the logs.
set -Eeuo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR=${E2E_DIR:-$REPO/.e2e}
OUT=${E2E_OUT:-$REPO/test-output/e2e}
THEMES=${E2E_THEMES:-dark light hc}
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
hash=$(cat "$REPO"/dist/extension.js "$REPO"/dist/worker.js "$REPO"/dist/webview.js "$REPO"/media/* \
  "$REPO/package.json" "$REPO/scripts/e2e/vscodeignore" | sha256sum | cut -c1-16)
VSIX=$E2E_DIR/vsix/circuitscope-$hash.vsix
if [[ ! -f $VSIX ]]; then
  log "packaging $VSIX (vsce)"
  rm -rf "$E2E_DIR/vsix"
  mkdir -p "$E2E_DIR/vsix"
  # --allow-missing-repository/--skip-license: otherwise vsce stops and prompts.
  (cd "$REPO" && node node_modules/@vscode/vsce/vsce package --allow-missing-repository --skip-license --no-rewrite-relative-links \
    --ignoreFile scripts/e2e/vscodeignore -o "$VSIX") >"$E2E_DIR/vsce.log" 2>&1 ||
    { tail -30 "$E2E_DIR/vsce.log"; die "vsce package failed"; }
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
cp "$RUN/code-server.log" "$OUT/code-server.log" 2>/dev/null || true
find "$RUN/user-data/logs" -name '*Circuitscope*' -exec cp {} "$OUT/" \; 2>/dev/null || true
stop_code_server
trap - EXIT
((rc == 0)) || die "e2e failed"
log "e2e passed in $((EPOCHSECONDS - t_start)) s; screenshots in $OUT/{$(echo "$THEMES" | tr ' ' ',')}/"
