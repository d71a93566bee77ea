#!/usr/bin/env bash
# Every check that needs a GPU, as one prepared run for the device tool (each step has its own
# time limit; every log and JSON lands in $OUT). Steps, in order (1350 s of limits in all; with
# no names it runs tests population tf32 profile rbm, 850 s: more than one call's device time
# allows, so name some to run only those, e.g. `bash benchmarks/gpu_checks.sh tests profile`):
#   tests: the CUDA-only tests (they skip on CPU machines, so CI never runs them);
#   population: issue 3, benchmarks/population.py --preset gpu (K = 1, 100, 1000: tutorial
#      loop, hand loop, trainlab population with and without CUDA graphs and with Adam's
#      _foreach path; goal >= 400 model-epochs/s at K >= 100, K=1 within 1.2x of the hand loop;
#      2026-11-29, before the _foreach rows: 276 s);
#   triton: the Triton Adam's tests and the grad-mask tests (CPU-runnable ones too; 30 s);
#   optim: issue 5, benchmarks/optim.py on CUDA (one optimizer step of K=100 models against
#      torch.optim and a loop of 100 torch.optim instances; 35 s);
#   gather: x[idx] against index_select for the step's batch gather (benchmarks/gather.py; 6 s);
#   trainlab: only the trainlab rows of population (K = 1, 100, 1000; with Adam's Triton
#      kernel and with its _foreach path, side by side; 126 s), where device time is short;
#      TRAINLAB_METHODS="trainlab" (or any of population.py's methods) picks the rows;
#   profile: the kernels of an eager K=1000 step, heaviest first (benchmarks/profile_step.py);
#   tf32: the trainlab rows again with TF32 matmuls (train.tf32) at K = 100, 1000 (84 s);
#   rbm: issue 6, benchmarks/rbm.py --gpu-population 100 (100 RBMs on the GPU against
#      scikit-learn's 10 fits on the machine's CPU; 28 s).
#
# The device image has torch (CUDA), numpy, scipy, scikit-learn, matplotlib, rich, typer, PyYAML
# but not pydantic or mnist1d. Here, once:  make gpu-wheels   (cp312 wheels into .whl/). Then:
#   run(command="bash benchmarks/gpu_checks.sh", carry=[".whl"], timeout_s=600)
set -uo pipefail
known="tests population triton optim gather trainlab profile tf32 rbm"
for name in "$@"; do  # a misspelled step would run nothing and exit 0: minutes of device time
  [[ " $known " == *" $name "* ]] || { echo "unknown step '$name'; choose from: $known" >&2; exit 2; }
done
OUT=${OUT:-/tmp/gpu_checks}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || { echo "could not install .whl/ (make them with 'make gpu-wheels')"; exit 2; }
export PYTHONPATH="$PWD/src:/tmp/site" PYTHONUNBUFFERED=1
python3 -c "import torch, trainlab; print('torch', torch.__version__, torch.cuda.get_device_name())" \
  || exit 2
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
python3 -c "import triton; print('triton', triton.__version__)" 2>&1 | tail -1 | tee -a "$OUT/gpu.txt"
status=0
step() {  # step NAME SECONDS CMD...: run with a limit, keep its log, remember a failure
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s)"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" -eq 0 ] || status=1
}
steps=" ${*:-tests population tf32 profile rbm} "
if [[ $steps == *" tests "* ]]; then
  step cuda_tests 120 python3 -m pytest -q -p no:cacheprovider -k "cuda or gpu" tests
fi
if [[ $steps == *" population "* ]]; then
  step population_gpu 400 python3 benchmarks/population.py --preset gpu --repeats 1 \
    --out "$OUT/population_gpu.json"
fi
if [[ $steps == *" triton "* ]]; then
  step triton_tests 90 python3 -m pytest -q -p no:cacheprovider tests/test_triton_adam.py \
    tests/test_optim_grad_mask.py
fi
if [[ $steps == *" optim "* ]]; then
  step optim_gpu 150 python3 benchmarks/optim.py --device cuda --threads 0 \
    --model linear,small,digits,mnist --out "$OUT/optim_gpu.json"
fi
if [[ $steps == *" gather "* ]]; then
  step gather_gpu 60 python3 benchmarks/gather.py --device cuda --out "$OUT/gather_gpu.json"
fi
if [[ $steps == *" trainlab "* ]]; then
  step population_trainlab 200 python3 benchmarks/population.py --preset gpu --repeats 1 \
    --methods ${TRAINLAB_METHODS:-trainlab trainlab-foreach} --out "$OUT/population_trainlab.json"
fi
if [[ $steps == *" profile "* ]]; then
  step profile_k1000 60 python3 benchmarks/profile_step.py --preset gpu --k 1000 --steps 5 \
    --out "$OUT/profile_k1000.json"
fi
if [[ $steps == *" tf32 "* ]]; then
  step population_gpu_tf32 120 python3 benchmarks/population.py --preset gpu --repeats 1 --tf32 \
    --k 100 1000 --methods trainlab trainlab+eval --out "$OUT/population_gpu_tf32.json"
fi
if [[ $steps == *" rbm "* ]]; then
  step rbm_gpu 150 python3 benchmarks/rbm.py --repeats 1 --no-dbn --acc-seeds 0 --gpu-population 100 \
    --out "$OUT/rbm_gpu.json"
fi
exit $status
