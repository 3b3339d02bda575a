#!/usr/bin/env bash
# Create .venv with the pinned packages and photo3d installed in editable mode.
# Usage: scripts/setup.sh [--system-deps]
#   --system-deps  also install the Debian packages the full test suite uses
#                  (Mesa EGL for the OpenGL rasterizer, chromium for the report's browser test).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.photo3d-installed"

if [[ "${1:-}" == "--system-deps" ]]; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [[ -e /usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0 || -e /usr/lib/aarch64-linux-gnu/libEGL_mesa.so.0 ]] || need+=(libegl-mesa0 libgl1-mesa-dri libegl1)
  if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "installing system packages: ${need[*]}"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
      echo "note: not root or no apt-get; tests needing ${need[*]} will be skipped" >&2
    fi
  fi
fi

if [[ -f "$stamp" && "$stamp" -nt requirements/lock.txt && "$stamp" -nt pyproject.toml ]]; then
  exit 0
fi
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# The lock is complete; --no-deps keeps pip from replacing the pinned CPU torch (ocnn declares
# torchvision, which has no build for it; photo3d imports ocnn without torchvision).
"$VENV/bin/python" -m pip install -q --no-deps -r requirements/lock.txt
"$VENV/bin/python" -m pip install -q --no-deps -e .
touch "$stamp"
