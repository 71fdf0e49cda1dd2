#!/usr/bin/env bash
# One GPU check of efc_mm, under 8 minutes on one GPU:
#   1. bench/train_step.py: PSP-R50-D8 EFC train step at 713x713, batch 2
#      pairs, fp32 and --amp: steps/s, peak GPU memory, flow-branch share;
#   2. bench/correlation_cuda.py: efc_mm's correlation vs the CUDA
#      extension spatial-correlation-sampler (pip-installed here if it
#      builds within INSTALL_TIMEOUT seconds; skipped otherwise), time and
#      memory at 90x90, C 256, d 10;
#   3. the quick start (configs/quickstart/psp_efc_tiny_synthetic_cpu.py)
#      for 200 iterations on the GPU, with its validation.
# Everything goes to OUT (default bench/results/gpu_check): one json per
# step, the logs, and summary.txt.
#
# Usage:
#   bench/gpu_check.sh                    # on a GPU machine
#   bench/gpu_check.sh --device cpu       # dry run on a CPU: tiny sizes,
#                                         # 2 quick-start iterations
#   bench/gpu_check.sh --out DIR --skip-install
# Environment: PYTHON (default python), INSTALL_TIMEOUT (default 180).
set -euo pipefail

DEVICE=cuda
OUT=bench/results/gpu_check
INSTALL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --skip-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
START=$(date +%s)
log() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(( $(date +%s) - START )); }

log "efc_mm GPU check, device $DEVICE, $(date -u '+%Y-%m-%d %H:%M UTC')"
$PY - <<'EOF' | tee -a "$SUMMARY"
import torch
print(f'torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}'
      + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available()
         else ''))
EOF

if [ "$DEVICE" = cpu ]; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  export CUDA_VISIBLE_DEVICES=""  # the runner must not pick up a GPU
  TS_ARGS=(--device cpu --quick --size 64 --batch 2 --reps 1)
  TS_AMP_ARGS=(--modes joint)
  CORR_ARGS=(--device cpu --quick)
  QS_ITERS=2
  INSTALL=0
else
  TS_ARGS=(--device "$DEVICE" --size 713 --batch 2 --reps 10)
  TS_AMP_ARGS=()
  CORR_ARGS=(--device "$DEVICE")
  QS_ITERS=200
fi

log ""
log "== 1. train step (bench/train_step.py ${TS_ARGS[*]}) [$(elapsed) s]"
$PY bench/train_step.py "${TS_ARGS[@]}" --json "$OUT/train_step.json" \
  2> "$OUT/train_step.err" | tee -a "$SUMMARY"
log "-- with --amp"
$PY bench/train_step.py "${TS_ARGS[@]}" "${TS_AMP_ARGS[@]}" --amp \
  --json "$OUT/train_step_amp.json" 2> "$OUT/train_step_amp.err" \
  | tee -a "$SUMMARY"

log ""
log "== 2. correlation vs spatial-correlation-sampler [$(elapsed) s]"
if [ "$INSTALL" = 1 ] && ! $PY -c "import spatial_correlation_sampler" \
    2> /dev/null; then
  log "installing spatial-correlation-sampler (compiles a CUDA extension," \
      "at most ${INSTALL_TIMEOUT:-180} s)"
  if timeout "${INSTALL_TIMEOUT:-180}" $PY -m pip install \
      spatial-correlation-sampler > "$OUT/pip_install.log" 2>&1; then
    log "installed"
  else
    log "install failed or timed out (see $OUT/pip_install.log): the" \
        "comparison is skipped"
  fi
fi
$PY bench/correlation_cuda.py "${CORR_ARGS[@]}" --json "$OUT/correlation.json" \
  2> "$OUT/correlation.err" | tee -a "$SUMMARY"

log ""
log "== 3. quick start, $QS_ITERS iterations on $DEVICE [$(elapsed) s]"
QS_OPTS=(train_cfg.max_iters=$QS_ITERS train_cfg.val_interval=$QS_ITERS
         param_scheduler.0.end=$QS_ITERS default_hooks.logger.interval=10)
if [ "$DEVICE" = cpu ]; then
  # dry run: a tiny world in OUT, 2 iterations, 64x64 crops
  for L in train val test; do
    P=${L}_dataloader
    QS_OPTS+=("$P.dataset.data_root=$OUT/world" "$P.num_workers=0"
              "$P.persistent_workers=False"
              "$P.dataset.world.num_train_snippets=2"
              "$P.dataset.world.num_val_snippets=1"
              "$P.dataset.world.height=64" "$P.dataset.world.width=128")
  done
  QS_OPTS+=(train_dataloader.batch_size=2 "train_dataloader.dataset.pipeline.3.crop_size=[64,64]"
            "model.data_preprocessor.size=[64,64]" default_hooks.logger.interval=1)
fi
QS_START=$(date +%s)
if $PY tools/train.py \
    configs/quickstart/psp_efc_tiny_synthetic_cpu.py \
    --work-dir "$OUT/quickstart" --cfg-options "${QS_OPTS[@]}" \
    > "$OUT/quickstart.log" 2>&1; then
  log "quick start: $QS_ITERS iterations + validation in" \
      "$(( $(date +%s) - QS_START )) s (world generation included)"
  grep -E "Iter\((train|val)\) \[" "$OUT/quickstart.log" | tail -2 \
    | tee -a "$SUMMARY" || true
else
  log "quick start FAILED (see $OUT/quickstart.log):"
  tail -20 "$OUT/quickstart.log" | tee -a "$SUMMARY"
  exit 1
fi

log ""
log "done in $(elapsed) s; results in $OUT"
