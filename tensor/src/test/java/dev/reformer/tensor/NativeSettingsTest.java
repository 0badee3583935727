package dev.reformer.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The engine sets the native libraries' environment variables itself, unless the user chose them. */
class NativeSettingsTest {
    private static final List<String> AVX512 = List.of("fpu", "avx2", "avx512f", "avx512bw", "avx512dq", "avx512vl");

    @Test
    void skylakeXKernelsOnlyWhereTheCpuHasTheirFourAvx512Extensions() {
        assertThat(NativeSettings.wanted(Map.of(), AVX512)).containsExactly(
                Map.entry("OPENBLAS_CORETYPE", "SkylakeX"), Map.entry("OMP_WAIT_POLICY", "PASSIVE"),
                Map.entry("OPENBLAS_THREAD_TIMEOUT", "4"));
        assertThat(NativeSettings.wanted(Map.of(), List.of("fpu", "avx2", "avx512f", "avx512dq", "avx512vl")))
                .doesNotContainKey("OPENBLAS_CORETYPE").containsKeys("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT");
    }

    @Test
    void whatTheEnvironmentNamesIsLeftAlone() {
        assertThat(NativeSettings.wanted(Map.of("OPENBLAS_CORETYPE", "Haswell", "OMP_WAIT_POLICY", "ACTIVE"), AVX512))
                .containsExactly(Map.entry("OPENBLAS_THREAD_TIMEOUT", "4"));
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void theSettingsReachTheProcessEnvironmentBeforeNd4jLoads() {
        Tensor product = Tensor.ones(DType.FLOAT32, 64, 64).matmul(Tensor.ones(DType.FLOAT32, 64, 64)); // ND4J and OpenBLAS loaded
        assertThat(product.sum(false).item()).isEqualTo(64.0 * 64 * 64);
        Map<String, String> wanted = NativeSettings.wanted(System.getenv(), NativeSettings.cpuFlags());
        assertThat(NativeSettings.applied()).isEqualTo(wanted);
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            assertThat(nativeGetenv(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aJvmStartedWithoutTheVariablesGetsThemFromTheEngine() throws Exception {
        // as code embedding the engine starts: a plain java -cp, no OpenMP/OpenBLAS variables exported
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Child.class.getName());
        pb.environment().keySet().removeIf(k -> k.startsWith("OMP_") || k.startsWith("OPENBLAS_"));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        Map<String, String> expected = NativeSettings.wanted(Map.of(), NativeSettings.cpuFlags());
        assertThat(output).as(output).contains("applied " + new TreeMap<>(expected));
        assertThat(output).contains("OMP_WAIT_POLICY=PASSIVE", "OPENBLAS_THREAD_TIMEOUT=4");
    }

    /** The child JVM: one product (ND4J and OpenBLAS loaded), then what the engine set. */
    public static final class Child {
        public static void main(String[] args) {
            Tensor.ones(DType.FLOAT32, 8, 8).matmul(Tensor.ones(DType.FLOAT32, 8, 8));
            System.out.println("applied " + new TreeMap<>(NativeSettings.applied()));
        }
    }

    /** The C library's view of a variable (Java's System.getenv is a copy taken at start-up). */
    private static String nativeGetenv(String name) {
        BytePointer value = org.bytedeco.systems.global.linux.getenv(new BytePointer(name));
        return value == null || value.isNull() ? null : value.getString();
    }
}
