#!/usr/bin/env bash
# Installs the kiosk's models into MODELS_DIR (see manifest.toml): a Python venv with numpy for the
# Whisper conversion is kept in KIOSK_MODEL_VENV (default /var/tmp/kiosk-models-venv).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 MODELS_DIR [--only NAME,...]" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${KIOSK_MODEL_VENV:-/var/tmp/kiosk-models-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import numpy" 2>/dev/null; then
    python3 -m venv "$venv" || { echo "error: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet numpy
fi
exec "$venv/bin/python" "$here/fetch.py" "$@"
