#!/usr/bin/env bash
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
set -e
source "$(dirname "$0")/launcher.sh"
dist_run "$3" test.py "$1" "$2" --launcher pytorch "${@:4}"
