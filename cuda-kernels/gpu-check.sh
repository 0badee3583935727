#!/usr/bin/env bash
# gpu-check.sh: the CUDA kernels' GPU check in one script.
#
#   cuda-kernels/gpu-check.sh            build the bundle if it is missing (here: Java 17, Maven, nvcc, g++),
#                                        then, if this machine has a GPU, run the bundle's GPU tests and
#                                        the kernel benchmark; without a GPU it says so and stops
#   cuda-kernels/gpu-check.sh --bundle   only build the bundle
#   cuda-kernels/gpu-check.sh --run      only run an existing bundle (on the GPU machine)
#   cuda-kernels/gpu-check.sh --emulated run an existing bundle's GPU tests here, against the CPU
#                                        emulator of the CUDA driver: a rehearsal of --run
#
# The GPU machines have no Java, so the bundle brings everything: cuda-kernels/target/gpu-bundle/
# holds a jlink JRE, the project's jars (the kernels' fatbin and the JNI library are inside
# reformer-cuda-kernels.jar), JavaCPP, JUnit's console launcher, AssertJ, the test classes and
# torch_sdpa.py (PyTorch's attention, timed in the same run). No ND4J: the contract tests and the
# benchmark use plain arrays; the engine-on-GPU test (CudaEngineGpuTest) needs ND4J and runs in the
# Maven build instead. The bundle stays under 60 MiB (checked).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bundle="$here/target/gpu-bundle"
mode="${1:-all}"
limit_mib=60

build_bundle() {
    command -v mvn >/dev/null || { echo "gpu-check: Maven is needed to build the bundle" >&2; exit 2; }
    command -v nvcc >/dev/null || { echo "gpu-check: nvcc is needed to build the kernels into the bundle" >&2; exit 2; }
    echo "gpu-check: building the modules and the kernels..."
    (cd "$root" && mvn -B -q -DskipTests install -pl cuda-kernels -am)
    (cd "$root" && mvn -B -q test-compile -pl cuda-kernels)
    local cp
    cp="$(cd "$root" && mvn -B -q -pl cuda-kernels dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test)"
    rm -rf "$bundle.tmp" && mkdir -p "$bundle.tmp/lib"
    cp "$root"/tensor/target/reformer-tensor-*.jar "$root"/autograd/target/reformer-autograd-*.jar \
        "$root"/reformer/target/reformer.jar "$here"/target/reformer-cuda-kernels-*.jar "$bundle.tmp/lib/"
    rm -f "$bundle.tmp"/lib/*-tests.jar "$bundle.tmp"/lib/*-sources.jar
    # from the test class path: JavaCPP (without its bundled natives) and AssertJ; JUnit comes whole
    # in its console launcher's standalone jar
    tr ':' '\n' <<<"$cp" | grep -E '/javacpp-[0-9.]+\.jar$|/assertj-core-[0-9.]+\.jar$' | xargs -I{} cp {} "$bundle.tmp/lib/"
    (cd "$root" && mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 \
        -DoutputDirectory="$bundle.tmp/lib") || { echo "gpu-check: cannot fetch JUnit's console launcher" >&2; exit 2; }
    (cd "$here/target/test-classes" && jar cf "$bundle.tmp/lib/cuda-kernels-tests.jar" .)
    cp "$here/src/main/cuda/torch_sdpa.py" "$here/gpu-check.sh" "$bundle.tmp/"
    local java_home
    java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    "$java_home/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output "$bundle.tmp/jre"
    rm -rf "$bundle" && mv "$bundle.tmp" "$bundle"
    local mib
    mib=$(du -sm "$bundle" | cut -f1)
    echo "gpu-check: bundle in $bundle: ${mib} MiB ($(ls "$bundle/lib" | wc -l) jars, a jlink JRE)"
    if (( mib >= limit_mib )); then
        echo "gpu-check: the bundle is ${mib} MiB, over the ${limit_mib} MiB limit" >&2
        exit 1
    fi
}

has_gpu() {
    command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1
}

run_bundle() {
    [[ -x "$bundle/jre/bin/java" ]] || { echo "gpu-check: no bundle in $bundle: run gpu-check.sh --bundle where Java and Maven are" >&2; exit 2; }
    if ! has_gpu; then
        echo "gpu-check: no GPU found on this machine (nvidia-smi lists none): the bundle is ready in $bundle; run it where there is one"
        return 0
    fi
    nvidia-smi -L
    local java="$bundle/jre/bin/java"
    local cp="$bundle/lib/*"
    local cache
    cache="$(mktemp -d)"
    echo "gpu-check: GPU tests (every kernel version against its plain-Java reference)"
    local tests=0
    timeout 200 "$java" -Dorg.bytedeco.javacpp.cachedir="$cache" -cp "$cp" org.junit.platform.console.ConsoleLauncher execute \
        --disable-banner --details=tree --select-class dev.reformer.cuda.CudaKernelsGpuTest || tests=$?
    echo "gpu-check: kernel benchmark"
    timeout 150 "$java" -Dorg.bytedeco.javacpp.cachedir="$cache" -cp "$cp" dev.reformer.cuda.GpuBenchmark "$bundle/torch_sdpa.py"
    rm -rf "$cache"
    if (( tests != 0 )); then
        echo "gpu-check: GPU tests failed (exit $tests)" >&2
        exit "$tests"
    fi
}

# The GPU run rehearsed here: the bundle's JRE, jars and JNI library run the contract tests against
# the CPU emulator of the CUDA driver (src/test/emulator, built by the module's build).
run_emulated() {
    [[ -x "$bundle/jre/bin/java" ]] || { echo "gpu-check: no bundle in $bundle: run gpu-check.sh --bundle first" >&2; exit 2; }
    local emulator="$here/target/emulator/libcuda-emulator.so"
    [[ -f "$emulator" ]] || { echo "gpu-check: no $emulator: build the module first (mvn -pl cuda-kernels -am test-compile)" >&2; exit 2; }
    local cache
    cache="$(mktemp -d)"
    echo "gpu-check: the bundle's GPU tests against the CPU emulator (small shapes; the emulator has no speed to measure)"
    local tests=0
    REFORMER_CUDA_DRIVER="$emulator" timeout 300 "$bundle/jre/bin/java" -Dorg.bytedeco.javacpp.cachedir="$cache" \
        -cp "$bundle/lib/*" org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree \
        --select-class dev.reformer.cuda.CudaKernelsGpuTest --select-class dev.reformer.cuda.CudaEmulatorTest || tests=$?
    echo "gpu-check: the kernel benchmark's code, once at small sizes (--smoke)"
    REFORMER_CUDA_DRIVER="$emulator" timeout 300 "$bundle/jre/bin/java" -Dorg.bytedeco.javacpp.cachedir="$cache" \
        -cp "$bundle/lib/*" dev.reformer.cuda.GpuBenchmark --smoke || tests=$?
    rm -rf "$cache"
    if (( tests != 0 )); then
        echo "gpu-check: emulated GPU tests or the benchmark's smoke run failed (exit $tests)" >&2
        exit "$tests"
    fi
}

case "$mode" in
    --bundle) build_bundle ;;
    --run) run_bundle ;;
    --emulated) run_emulated ;;
    all)
        [[ -x "$bundle/jre/bin/java" ]] || build_bundle
        run_bundle ;;
    *) echo "gpu-check: unknown option '$mode': use --bundle, --run, --emulated or nothing" >&2; exit 2 ;;
esac
