#!/usr/bin/env bash
# Builds the CPU emulator of the CUDA driver, libcuda-emulator.so, into the folder given (the
# module's target/emulator): the kernels of src/main/cuda, and selftest.cu's checks of the
# emulator itself, compiled by g++ against cuda_emulator.h and behind driver.cpp's driver API. The
# tests tagged gpu run against it in the build's `emulated-gpu` test run (REFORMER_CUDA_DRIVER
# names the library). The sources change in one mechanical way: an
# `extern __shared__ [__align__(n)] T name[];` (dynamic shared memory, which C++ cannot declare)
# becomes `T* name = emu::dynamic_shared<T>();` (16-byte aligned). Without g++ it says so and
# succeeds: the emulated test run then skips, naming the missing library.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
cuda="$here/../../main/cuda"
if ! command -v g++ >/dev/null 2>&1; then
    echo "cuda-kernels: g++ not found; building without the CUDA emulator (emulated GPU tests will skip)"
    exit 0
fi
target="$out/libcuda-emulator.so"
newest="$(ls -t "$cuda"/*.cu "$here"/*.cu "$here"/*.h "$here"/*.cpp "$0" | head -1)"
if [[ -f "$target" && "$target" -nt "$newest" ]]; then
    exit 0
fi
mkdir -p "$out/src"
for f in "$cuda"/*.cu "$here"/selftest.cu; do
    sed -E 's/extern __shared__ (__align__\([0-9]+\) )?([A-Za-z0-9_]+) ([A-Za-z0-9_]+)\[\];/\2* \3 = emu::dynamic_shared<\2>();/' \
        "$f" >"$out/src/$(basename "$f")"
done
# every kernel: its name (the word before "(" on an `extern "C" __global__ void` line) and its
# __launch_bounds__ (the most threads per block it was compiled for; 1024 where it names none)
grep -hoE 'extern "C" __global__ void (__launch_bounds__\([0-9]+[^)]*\) )?[A-Za-z0-9_]+\(' "$cuda"/*.cu "$here"/selftest.cu |
    sed -E -e 's/.*__launch_bounds__\(([0-9]+)[^)]*\) ([A-Za-z0-9_]+)\($/KERNEL(\2, \1)/' \
        -e 's/^extern "C" __global__ void ([A-Za-z0-9_]+)\($/KERNEL(\1, 1024)/' >"$out/src/kernel_list.inc"
declared=$(cat "$cuda"/*.cu "$here"/selftest.cu | grep -c '^extern "C" __global__')
listed=$(grep -c KERNEL "$out/src/kernel_list.inc")
if [[ "$declared" != "$listed" ]]; then
    echo "cuda-kernels: $declared __global__ kernels in the sources, $listed found by build-emulator.sh's pattern:" \
        "write each as one line 'extern \"C\" __global__ void [__launch_bounds__(N)] name('" >&2
    exit 1
fi
g++ -std=c++17 -O2 -march=native -fno-strict-aliasing -g -fPIC -shared -pthread -Wall -Wno-unused-function -Wno-unknown-pragmas -I"$out/src" -I"$here" \
    -o "$target.tmp" "$here/driver.cpp"
mv "$target.tmp" "$target"
echo "cuda-kernels: built $(basename "$target") ($(grep -c KERNEL "$out/src/kernel_list.inc") kernels) with $(g++ --version | head -1)"
