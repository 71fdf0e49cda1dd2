#!/usr/bin/env bash
#   GPUS=8 tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
set -x
source "$(dirname "$0")/launcher.sh"
slurm_run "$1" "$2" test.py "$3" "$4" --launcher="slurm" "${@:5}"
