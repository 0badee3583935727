#!/usr/bin/env bash
# Compiles src/main/cuda/*.cu into one fatbin, reformer_kernels.fatbin, in the folder given
# (the module's classes, so it is packaged as a resource): SASS for sm_80 (A100) and sm_90
# (H100, H200) and compute_90 PTX for newer GPUs. Without nvcc it says so and succeeds: the
# module builds on machines without CUDA, and Cuda.availability() reports the missing fatbin.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v nvcc >/dev/null 2>&1; then
    echo "cuda-kernels: nvcc not found; building without the CUDA fatbin (GPU tests will skip)"
    exit 0
fi
mkdir -p "$out"
target="$out/reformer_kernels.fatbin"
newest="$(ls -t "$here"/*.cu "$0" | head -1)"
if [[ -f "$target" && "$target" -nt "$newest" ]]; then
    exit 0
fi
nvcc -fatbin -O3 -std=c++17 \
    -gencode=arch=compute_80,code=sm_80 \
    -gencode=arch=compute_90,code='[sm_90,compute_90]' \
    -o "$target.tmp" "$here"/kernels.cu
mv "$target.tmp" "$target"
echo "cuda-kernels: built $(basename "$target") ($(stat -c %s "$target") bytes) with $(nvcc --version | tail -1)"
