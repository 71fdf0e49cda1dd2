#!/usr/bin/env bash
# What tools/dist_{train,test}.sh and tools/slurm_{train,test}.sh share:
# source this file, then run a tools/*.py script on several processes.
#   dist_run GPUS SCRIPT ARGS...        torch.distributed.run, one process per
#       GPU (env NNODES=1, NODE_RANK=0, MASTER_ADDR=127.0.0.1, PORT=29500,
#       PYTHON=python)
#   slurm_run PARTITION JOB_NAME SCRIPT ARGS...   srun, one task per GPU (env
#       GPUS=4, GPUS_PER_NODE=4, CPUS_PER_TASK=5, SRUN_ARGS="")
# SCRIPT is relative to tools/; the repository root goes first on PYTHONPATH.
TOOLS_DIR=$(dirname "${BASH_SOURCE[0]}")
export PYTHONPATH="$TOOLS_DIR/..":$PYTHONPATH

dist_run() {
    local gpus=$1 script=$2
    shift 2
    ${PYTHON:-python} -m torch.distributed.run \
        --nnodes=${NNODES:-1} \
        --node_rank=${NODE_RANK:-0} \
        --master_addr=${MASTER_ADDR:-"127.0.0.1"} \
        --nproc_per_node=$gpus \
        --master_port=${PORT:-29500} \
        "$TOOLS_DIR/$script" "$@"
}

slurm_run() {
    local partition=$1 job_name=$2 script=$3
    shift 3
    local gpus_per_node=${GPUS_PER_NODE:-4}
    srun -p ${partition} \
        --job-name=${job_name} \
        --gres=gpu:${gpus_per_node} \
        --ntasks=${GPUS:-4} \
        --ntasks-per-node=${gpus_per_node} \
        --cpus-per-task=${CPUS_PER_TASK:-5} \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS} \
        python -u "$TOOLS_DIR/$script" "$@"
}
