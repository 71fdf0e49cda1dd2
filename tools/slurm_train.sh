#!/usr/bin/env bash
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
set -x
source "$(dirname "$0")/launcher.sh"
slurm_run "$1" "$2" train.py "$3" --launcher="slurm" "${@:4}"
