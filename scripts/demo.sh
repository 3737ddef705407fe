#!/usr/bin/env bash
# The demo: sets up what is missing (packages, Docker engine, Temporal CLI, images, npm
# dependencies), builds, and runs the main job end to end on the bundled example repository.
# Usage: bash scripts/demo.sh [--escalate | --slack | --linear-session | --night]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npm run --silent build
node dist/worker/demo.js "$@"
