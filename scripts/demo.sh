#!/usr/bin/env bash
# The main job of `./tessera.sh demo [model.gguf]`: show the Vulkan device tessera picks, what it
# makes of a model, generate from a prompt and benchmark it. Without a model, writes the factory's
# small random-weight demo model and says so.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
bin=$root/build/bin

if [ $# -ge 1 ]; then
  model=$1
  [ -f "$model" ] || { echo "tessera demo: no such file: $model" >&2; exit 1; }
  echo "== model: $model"
else
  model=$root/build/demo/tessera-demo-small-q4_k_m.gguf
  echo "== No model given: using the factory's DEMO model (random weights, 'small' preset, Q4_K_M)."
  echo "   Its outputs are meaningless; pass a real Gemma 4 GGUF to see a real model: ./tessera.sh demo model.gguf"
  if [ ! -f "$model" ]; then
    mkdir -p "$(dirname "$model")"
    "$bin/tessera-factory" --preset small --type Q4_K_M --seed 1 -o "$model"
  fi
fi

echo
echo "== Vulkan devices"
"$bin/tessera" devices
echo
echo "== Model"
"$bin/tessera" info "$model" --ctx 8192
echo
echo "== Generation: tessera run -m $(basename "$model") -p ..."
"$bin/tessera" run -m "$model" --ctx 4096 -p "Write a haiku about GPUs." -n 48
echo
echo "== Throughput (llama-bench style)"
"$bin/tessera" bench -q -m "$model" -p 128 -n 32 -r 2
echo
echo "== Kernels on this device (GPU timestamps)"
"$bin/tessera-bench-kernels" --runs 2 || echo "(kernel benchmark unavailable on this device)"
echo
echo "Chat with it: $bin/tessera chat -m $model"
