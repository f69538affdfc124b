#!/usr/bin/env bash
# The GPU benchmark of issue 15 (bench/gpu/README.md): BERT-base with ProPETL-adapter at batch
# 32 x 128, propetl on jax-js's webgpu backend (Dawn on Vulkan) against the image's CUDA PyTorch.
# Every call is the same command, run from the repository root:
#   bash bench/gpu/run.sh
# The GPU machine has no Node.js: bench/gpu/pack.sh made a bundle in parts (.gpu/part-K-of-N-SHA),
# one carried per call. Each call copies the parts it brought to /tmp/propetl-gpu (kept while the
# machine stays warm), runs the PyTorch half once (it needs no Node), and once all N parts are
# there assembles the bundle and runs the jax-js half. Results: $OUT (else /tmp/propetl-gpu/out):
# result.json and result.md (the two halves side by side), node.jsonl, torch.jsonl and the logs.
# Where `node`, dist/ and node_modules/webgpu are present (a developer machine) they are used and
# no bundle is needed. Environment: GPU_BENCH_SHAPE (JSON fields over the default shape),
# BENCH_REPS (5), PYTHON (python3), NODE_TIMEOUT (360 s), TORCH_TIMEOUT (180 s), BENCH_COMPILE=1
# (also time torch.compile; minutes more).
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
S=/tmp/propetl-gpu
OUT=${OUT:-$S/out}
mkdir -p "$S/parts" "$S/results" "$OUT"
log() { echo "[run.sh $(date +%T)] $*" | tee -a "$S/results/run.log"; }
export BENCH_REPS=${BENCH_REPS:-5}
PYTHON=${PYTHON:-python3}

# 1. Stage the parts this call brought.
for f in .gpu/part-*; do [ -e "$f" ] && cp "$f" "$S/parts/"; done
log "parts staged: $(ls "$S/parts" | tr '\n' ' ')"

# 2. The PyTorch half, once per machine.
if [ ! -s "$S/results/torch.jsonl" ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L | tee -a "$S/results/run.log"
  log "PyTorch half (timeout ${TORCH_TIMEOUT:-180} s)"
  if PYTHONUNBUFFERED=1 timeout "${TORCH_TIMEOUT:-180}" "$PYTHON" bench/gpu/torch_bert_base.py >"$S/results/torch.tmp" 2>"$S/results/torch.err"; then
    mv "$S/results/torch.tmp" "$S/results/torch.jsonl" && rm -f "$S/results/torch.partial.jsonl"
  else
    log "PyTorch half failed (status $?): $(tail -3 "$S/results/torch.err")"
    cp "$S/results/torch.tmp" "$S/results/torch.partial.jsonl" 2>/dev/null
  fi
fi

# 3. Node and Dawn: the repository's own, else the assembled bundle.
ROOT=""
if command -v node >/dev/null && [ -f dist/bench/gpu/bert-base.js ] && [ -f node_modules/webgpu/index.js ]; then
  ROOT=$REPO
  NODE=$(command -v node)
else
  parts=$(ls "$S/parts" 2>/dev/null | sort -t- -k2,2n)
  first=$(echo "$parts" | head -1)
  if [ -n "$first" ]; then
    n=$(echo "$first" | cut -d- -f4)
    sha=$(echo "$first" | cut -d- -f5)
    have=$(ls "$S/parts" | grep -c -- "-of-$n-$sha\$")
    if [ "$have" -lt "$n" ]; then
      log "bundle $sha: $have of $n parts here; call again with the next part (.gpu/part-$((have + 1))-of-$n-$sha)"
    elif [ ! -x "$S/bundle/bin/node" ]; then
      for k in $(seq 1 "$n"); do cat "$S/parts/part-$k-of-$n-$sha"; done >"$S/bundle.tar.xz"
      if [ "$(sha256sum "$S/bundle.tar.xz" | cut -c1-12)" != "$sha" ]; then
        log "bundle $sha: checksum mismatch; pack again"
      else
        mkdir -p "$S/bundle" && tar -C "$S/bundle" -xJf "$S/bundle.tar.xz" && rm "$S/bundle.tar.xz"
        log "bundle $sha assembled"
      fi
    fi
    if [ -x "$S/bundle/bin/node" ]; then
      # The bundle is the package root: package.json's "imports" map #engine-platform and #jax-js.
      ROOT=$S/bundle
      cp "$REPO/package.json" "$ROOT/"
      NODE=$S/bundle/bin/node
    fi
  else
    log "no node here and no bundle part: run bench/gpu/pack.sh and carry .gpu/part-1-of-N-SHA"
  fi
fi

# 4. The jax-js half on webgpu, once the Vulkan loader and driver are found.
if [ -n "$ROOT" ] && [ ! -s "$S/results/node.jsonl" ]; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
    deb=$(ls "$S"/bundle/deb/libvulkan1_*.deb 2>/dev/null | head -1)
    if [ -n "$deb" ]; then dpkg -x "$deb" / && ldconfig && log "Vulkan loader unpacked from $(basename "$deb")"; else log "no Vulkan loader (libvulkan.so.1) and none in the bundle"; fi
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -e "$icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$icd
    log "VK_DRIVER_FILES=$icd"
  fi
  log "jax-js half: $NODE $("$NODE" --version) on $ROOT (timeout ${NODE_TIMEOUT:-360} s)"
  if BENCH_BACKEND=webgpu timeout "${NODE_TIMEOUT:-360}" "$NODE" "$ROOT/dist/bench/gpu/bert-base.js" >"$S/results/node.tmp" 2>"$S/results/node.err"; then
    mv "$S/results/node.tmp" "$S/results/node.jsonl" && rm -f "$S/results/node.partial.jsonl"
  else
    log "jax-js half failed (status $?): $(grep -v '^Warning' "$S/results/node.err" | tail -5)"
    cp "$S/results/node.tmp" "$S/results/node.partial.jsonl" 2>/dev/null
  fi
fi

# 5. The summary, with whatever is there.
"$PYTHON" bench/gpu/summarize.py "$S/results" "$OUT" || log "summary failed"
cp "$S/results"/*.jsonl "$S/results"/*.err "$S/results/run.log" "$OUT/" 2>/dev/null
log "done; results in $OUT"
