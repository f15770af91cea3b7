# Sourced by scripts/run and scripts/test: find Python >= 3.12, make .venv, install requirements.
# REQUIREMENTS (default requirements.txt) names the file to install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.12 python3.13 \
        "$(pyenv root 2>/dev/null)/versions/"3.12*/bin/python3 \
        "$(pyenv root 2>/dev/null)/versions/"3.13*/bin/python3; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate" || echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    PY=$(find_python) || {
        echo "error: this project needs Python 3.12 or newer, and none was found." >&2
        echo "       Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
        exit 1
    }
    echo "==> creating .venv with $PY ($("$PY" --version))"
    rm -rf .venv
    "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi

REQUIREMENTS=${REQUIREMENTS:-requirements.txt}
stamp=".venv/.installed-$(basename "$REQUIREMENTS")"
wanted=$(cat requirements*.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "==> installing $REQUIREMENTS"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        -c constraints.txt
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
