#!/usr/bin/env bash
# The README's main command: set the machine up, then bring the sample's default tenants up on the
# compose backend. In a terminal this opens the TUI and watches; elsewhere it returns once healthy
# (pass --no-tui to stay attached with plain output, or any other `devenv up` flag).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ -t 0 ] && [ -t 1 ] && [ "$#" -eq 0 ]; then
  exec devenv up
fi
exec devenv up "${@:---detach}"
