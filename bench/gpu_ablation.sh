#!/usr/bin/env bash
# The synthetic ablation of bench/efc_ablation.py at the saturating schedule
# (3000 iterations), many (row, seed) runs at once on one GPU, inside one
# device lease (everything must end before the lease's command limit).
#
#   1. install the OpenMMLab wheels carried in .whl/ (if any) into /tmp/site
#      (the device image has torch but no mmengine / mmcv / mmseg / mmflow);
#   2. generate the two synthetic worlds (16 processes);
#   3. start CUDA MPS if the driver offers it (many small processes share
#      the GPU concurrently instead of time-slicing), checked by a CUDA call
#      under a timeout; without it the runs time-slice;
#   4. a 4-iteration smoke run of the full EFC config with its validation
#      (fails fast, before the long runs);
#   5. bench/train_step.py on PSP-R50-D8 at 713x713 (fp32 and AMP) in the
#      background, non-fatal (GPU step time / memory of the full-size model);
#   6. bench/efc_ablation.py --iters ITERS --jobs JOBS --deadline ...: rows in
#      priority order, runs still going at the deadline are killed (their
#      validation records so far stay);
#   7. OUT gets the log, the bench's JSON / markdown / curves, a GPU
#      utilisation trace and runs.tgz (every run's scalars.json, log and
#      config; no checkpoints).
#
# The wheels (pure Python; made on any machine with PyPI access, repo root):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 --platform any \
#     -d .whl mmengine==0.10.7 mmcv-lite==2.0.1 mmsegmentation==1.2.2 \
#     mmflow==1.0.0rc0 addict yapf termcolor prettytable ftfy wcwidth platformdirs
# (.whl/ is not committed; the device tool carries it with carry=[".whl"]).
#
# Usage (repo root; on the device OUT is set by the tool):
#   bash bench/gpu_ablation.sh
#   ITERS=4 JOBS=2 ROWS="baseline full" SEEDS="0" TOTAL=300 \
#       OUT=/tmp/gpu_out bash bench/gpu_ablation.sh     # CPU dry run
# Environment: ITERS (3000), JOBS (12), ROWS, SEEDS ("0 1 2"), TOTAL (seconds
# the whole script may take, default 570), WORK (/tmp/abl), PYTHON (python3).
set -u
T0=$(date +%s)
OUT=${OUT:-/tmp/gpu_ablation_out}
ITERS=${ITERS:-3000}
JOBS=${JOBS:-12}
SEEDS=${SEEDS:-"0 1 2"}
# rows: names of efc_mm.ablation.row_names() (configs/_base_/ablation/), in
# priority order; each run is tools/train.py PROTOCOL --row NAME
ROWS=${ROWS:-"baseline full UL TCC_multi+OM_unl sep_enc_unl TCC_multi+OM \
TCC_single TCC_single+OM UL+OE+TC no_cons UL+OE UL+TC TCC_fix"}
TOTAL=${TOTAL:-570}
WORK=${WORK:-/tmp/abl}
PY=${PYTHON:-python3}
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/log.txt") 2>&1
elapsed() { echo $(( $(date +%s) - T0 )); }
echo "gpu_ablation.sh $(date -u '+%F %T UTC'): ITERS=$ITERS JOBS=$JOBS"
echo "rows: $ROWS; seeds: $SEEDS"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
  2>/dev/null || echo "no nvidia-smi"
nproc

if ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || { echo "wheel install failed"; exit 1; }
  export PYTHONPATH=$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
$PY - <<'EOF' || { echo "imports failed"; exit 1; }
import torch, mmengine, mmcv, mmseg, mmflow, efc_mm
print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else '',
      '| mmengine', mmengine.__version__, 'mmcv', mmcv.__version__,
      'mmseg', mmseg.__version__, 'mmflow', mmflow.__version__)
EOF
echo "[$(elapsed) s] packages ok"

# the protocol's worlds (bench/efc_ablation.py prepare_worlds, 16 workers):
# the labelled world and the unlabelled one of the UD rows
$PY - <<'EOF' || { echo "world generation failed"; exit 1; }
from mmengine.config import Config
from efc_synthetic import ensure_synthetic_world
ds = Config.fromfile(
    'configs/synthetic/psp_efc_tiny_synthetic.py').train_dataloader.dataset
ensure_synthetic_world(ds.data_root, workers=16, **ds.world)
unl = dict(ds.get('unlabelled_world') or {})
if unl:
    ensure_synthetic_world(unl.pop('root'), workers=16, **unl)
EOF
echo "[$(elapsed) s] worlds ok"

MPS=0
if command -v nvidia-cuda-mps-control >/dev/null 2>&1; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
  mkdir -p /tmp/mps_pipe /tmp/mps_log
  if nvidia-cuda-mps-control -d && timeout 60 $PY -c \
      "import torch; print('MPS check', torch.ones(4, device='cuda').sum().item())"; then
    MPS=1
  else
    echo quit | nvidia-cuda-mps-control 2>/dev/null
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
  fi
fi
echo "[$(elapsed) s] MPS=$MPS"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used \
    --format=csv -l 20 > "$OUT/gpu_util.csv" 2>/dev/null &
fi

# smoke: 4 iterations of the full EFC config with its validation (L_cons's
# schedule is fractions of the run, 30 % -> 50 %: on from iteration 2)
OMP_NUM_THREADS=1 timeout 150 $PY tools/train.py \
  configs/synthetic/psp_efc_tiny_synthetic.py --threads 1 \
  --work-dir "$WORK/smoke" --cfg-options train_cfg.max_iters=4 \
  train_cfg.val_interval=4 default_hooks.logger.interval=2 \
  > "$WORK/smoke.log" 2>&1
RC=$?
grep -E "Iter\(val\) \[[0-9]+/[0-9]+\] " "$WORK/smoke.log" | tail -1
if [ $RC -ne 0 ]; then
  echo "smoke run failed ($RC):"; tail -40 "$WORK/smoke.log"; exit 1
fi
echo "[$(elapsed) s] smoke ok"

if [ "$MPS" = 1 ] || $PY -c "import torch,sys; sys.exit(not torch.cuda.is_available())"; then
  (OMP_NUM_THREADS=4 timeout 150 $PY bench/train_step.py --device cuda \
     --size 713 --batch 2 --reps 5 --modes joint seg2 \
     --json "$OUT/train_step_cuda.json" > "$WORK/train_step.log" 2>&1;
   OMP_NUM_THREADS=4 timeout 100 $PY bench/train_step.py --device cuda \
     --size 713 --batch 2 --reps 5 --modes joint seg2 --amp \
     --json "$OUT/train_step_cuda_amp.json" >> "$WORK/train_step.log" 2>&1) &
fi

LEFT=$(( TOTAL - $(elapsed) - 25 ))
echo "[$(elapsed) s] ablation: deadline in $LEFT s"
# shellcheck disable=SC2086
$PY bench/efc_ablation.py --rows $ROWS --seeds $SEEDS --iters "$ITERS" \
  --jobs "$JOBS" --deadline "$LEFT" --work-root "$WORK" \
  --out "$OUT/efc_ablation_gpu.json"
echo "[$(elapsed) s] ablation done"
tar czf "$OUT/runs.tgz" --exclude='*.pth' -C "$(dirname "$WORK")" \
  "$(basename "$WORK")" 2>/dev/null
[ "$MPS" = 1 ] && (echo quit | nvidia-cuda-mps-control)
ls -la "$OUT"
echo "[$(elapsed) s] end"
