#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing (CI starts from a bare machine):
# libonnx-testdata (ONNX's operator conformance data for the translator tests).
set -euo pipefail
need=()
[[ -d /usr/share/libonnx-testdata/data/node ]] || need+=(libonnx-testdata)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${need[*]} — install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "== apt-get install ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
