#!/bin/sh
# mk/python-check.sh PYTHON VENV — run by `make venv` before it creates or reuses VENV.
# Refuses an interpreter older than 3.11 with one clear line (instead of a wall of pip errors), and
# removes a VENV that another Python version made, so it is rebuilt with PYTHON.
set -eu
python=$1
venv=$2
minimum=3.11

if ! version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
  echo "steadystate needs Python $minimum or newer: '$python' does not run; set PYTHON, e.g. make venv PYTHON=python3.11" >&2
  exit 1
fi
major=${version%%.*}
minor=${version#*.}
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
  echo "steadystate needs Python $minimum or newer: PYTHON=$python is Python $version; set PYTHON, e.g. make venv PYTHON=python3.11" >&2
  exit 1
fi

[ -e "$venv" ] || exit 0
made_by=""
if [ -f "$venv/pyvenv.cfg" ]; then
  # `version = 3.11.2` (venv) or `version_info = 3.11.2.final.0` (virtualenv, uv)
  made_by=$(sed -n 's/^version\(_info\)\{0,1\} *= *\([0-9]*\.[0-9]*\).*/\2/p' "$venv/pyvenv.cfg" | head -n 1)
fi
if [ -z "$made_by" ] && [ -x "$venv/bin/python" ]; then
  made_by=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
fi
if [ "$made_by" != "$version" ]; then
  echo "rebuilding $venv: it was made by Python ${made_by:-unknown}, PYTHON=$python is Python $version" >&2
  rm -rf "$venv"
fi
