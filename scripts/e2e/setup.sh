#!/usr/bin/env bash
# Installs what the e2e tier needs, idempotently (a second run takes a few seconds):
#  - Debian packages (as root, only when missing): chromium, ripgrep, libkrb5-dev, build-essential, python3, fonts;
#  - code-server $CS_VERSION (VS Code 1.100.3, the last whose engines.node is 20) from the npm registry into
#    .e2e/code-server-$CS_VERSION, in "manual" mode: `npm install --ignore-scripts`, then code-server's
#    postinstall redone by hand without any download (Debian's rg instead of @vscode/ripgrep's GitHub fetch,
#    native modules built with npm's bundled node-gyp against /usr/include/node).
# playwright-core and @vscode/vsce come from the project's devDependencies (npm ci).
# Pitfalls and why each step is needed: see the comments, and docs in shared/vscode-e2e/README.md (workplace).
set -Eeuo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR=${E2E_DIR:-$REPO/.e2e}
CS_VERSION=${CS_VERSION:-4.100.3}
CS_DIR=$E2E_DIR/code-server-$CS_VERSION
CS_PKG=$CS_DIR/node_modules/code-server
VSC=$CS_PKG/lib/vscode
STAMP=$CS_DIR/.installed
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

log() { printf '[e2e setup %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf '[e2e setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$E2E_DIR/tmp" "$E2E_DIR/npm-cache"
# npm's cache and os.tmpdir() stay inside .e2e; three machine-level npm pitfalls:
#  * a user ~/.npmrc with yes=false makes `npx` inside postinstalls abort (and npm then rolls back);
#  * node-gyp must use /usr/include/node, not download headers from nodejs.org;
#  * as root, code-server's postinstall insists on unsafe-perm.
export TMPDIR=$E2E_DIR/tmp
export npm_config_cache=$E2E_DIR/npm-cache
export npm_config_yes=true npm_config_unsafe_perm=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
[[ -f /usr/include/node/node_version.h ]] && export npm_config_nodedir=/usr

# --- Debian packages -------------------------------------------------------------------------------
need=()
[[ -x $CHROMIUM ]] || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
for p in libkrb5-dev build-essential python3 fonts-dejavu-core; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if ((${#need[@]})); then
  [[ $(id -u) == 0 ]] || die "missing Debian packages (${need[*]}); run as root or: sudo apt-get install ${need[*]}"
  [[ ${SKIP_APT:-} == 1 ]] && die "missing Debian packages: ${need[*]} (SKIP_APT=1)"
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
[[ -f /usr/include/node/node_version.h ]] || log "WARNING: /usr/include/node is missing; node-gyp will try nodejs.org"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major == 20 ]] || die "code-server $CS_VERSION needs Node 20 (found $(node -v))"

# --- code-server -----------------------------------------------------------------------------------
postinstall_by_hand() {
  # code-server's postinstall.sh without network access. Inside `( … ) || die` bash ignores set -e: every
  # step carries its own `|| return 1`.
  local gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js m
  [[ -f $gyp ]] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
  # argon2 (loaded even with --auth none): build from source instead of trying a GitHub prebuilt
  (cd "$CS_DIR" && npm_config_build_from_source=true npm rebuild argon2 --foreground-scripts) || return 1
  # VS Code's own dependencies, scripts off (@vscode/ripgrep's postinstall would fetch from GitHub)
  (cd "$VSC" && npm install --ignore-scripts --omit=dev) || return 1
  install -D -m 0755 "$(command -v rg)" "$VSC/node_modules/@vscode/ripgrep/bin/rg" || return 1
  for m in @vscode/spdlog node-pty native-watchdog kerberos @vscode/deviceid; do
    echo "== node-gyp rebuild $m"
    (cd "$VSC/node_modules/$m" && node "$gyp" rebuild --nodedir="${npm_config_nodedir:-}") || return 1
  done
  [[ -f $VSC/node_modules/@parcel/watcher-linux-x64-glibc/watcher.node ]] || return 1
  # the links postinstall.sh makes
  ln -sfn node_modules "$VSC/node_modules.asar" &&
    ln -sfn code-linux.sh "$VSC/bin/remote-cli/code-server" &&
    ln -sfn browser-linux.sh "$VSC/bin/helpers/browser.sh" || return 1
  # built-in extensions' shared dependencies (typescript); that postinstall is offline
  (cd "$VSC/extensions" && npm install --omit=dev) || return 1
}

if [[ ! -f $STAMP ]]; then
  log "installing code-server@$CS_VERSION into $CS_DIR (first run: a few minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  echo '{"name":"circuitscope-e2e-host","private":true}' >"$CS_DIR/package.json"
  (cd "$CS_DIR" && npm install --ignore-scripts "code-server@$CS_VERSION" && postinstall_by_hand) >"$E2E_DIR/code-server-install.log" 2>&1 ||
    { tail -40 "$E2E_DIR/code-server-install.log"; die "code-server install failed (see $E2E_DIR/code-server-install.log)"; }
  for f in "$CS_DIR/node_modules/argon2/lib/binding/napi-v3/argon2.node" \
    "$VSC/node_modules/@vscode/spdlog/build/Release/spdlog.node" \
    "$VSC/node_modules/node-pty/build/Release/pty.node" \
    "$VSC/node_modules/kerberos/build/Release/kerberos.node" \
    "$VSC/node_modules/@vscode/ripgrep/bin/rg"; do
    [[ -e $f ]] || die "missing after install: $f"
  done
  (cd "$VSC" && node -e 'for (const m of ["@vscode/spdlog","node-pty","native-watchdog","kerberos","@parcel/watcher"]) require(m)') ||
    die "a native module of code-server fails to load"
  touch "$STAMP"
  log "code-server installed"
else
  log "code-server@$CS_VERSION already installed"
fi
[[ -f $REPO/node_modules/playwright-core/package.json ]] || die "playwright-core missing: run npm ci first"
[[ -f $REPO/node_modules/@vscode/vsce/package.json ]] || die "@vscode/vsce missing: run npm ci first"
