#!/usr/bin/env bash
# Multi-process training through torch.distributed (one process per GPU;
# on a machine without CUDA, CPU processes talking over gloo).
#   tools/dist_train.sh CONFIG GPUS [train.py args...]
set -e
source "$(dirname "$0")/launcher.sh"
dist_run "$2" train.py "$1" --launcher pytorch "${@:3}"
