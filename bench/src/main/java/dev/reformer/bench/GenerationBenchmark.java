package dev.reformer.bench;

import dev.reformer.autograd.GradMode;
import dev.reformer.model.Decoder;
import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of new tokens at a long context: 64 greedy tokens after a prompt that fills the rest of
 * the context ({@code length} - 64 tokens), with the decoder's cache (the prompt already fed, in
 * the untimed set-up, as a session that continues a text would have it) and without it (every
 * token a forward pass over the whole sequence so far), on the charlm default model (two layers,
 * local then LSH K = 2, d = 128, chunks of 32) with random weights. The score is the time for the
 * 64 tokens.
 *
 * <pre>
 *   OMP_NUM_THREADS=2 \
 *     java -jar bench/target/benchmarks.jar GenerationBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmn64m", "-Xmx1g"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class GenerationBenchmark {
    static final int NEW = 64;

    @Param({"256", "1024"})
    public int length;

    @Param({"cached", "uncached"})
    public String mode;

    private ReformerLM model;
    private long[] prompt;
    private Decoder decoder;
    private float[] logits;

    @Setup
    public void setUp() {
        ReformerConfig config = ReformerConfig.builder().vocabSize(256).dModel(128).dFf(512).heads(4).headDim(32).layers(2)
                .attention(AttentionType.LOCAL, AttentionType.LSH).maxLength(length).lshHashes(2).lshBuckets(2 * length / 32)
                .lshChunkLength(32).localChunkLength(32).causal(true).sharedQueryKey(true)
                .lshLogitScale(1 / Math.sqrt(32)).seed(1).build();
        model = new ReformerLM(config);
        model.train(false);
        Generator g = new Generator(2);
        prompt = new long[length - NEW];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 32 + g.nextInt(95);
        }
    }

    @Setup(Level.Invocation)
    public void prefill() {
        if (mode.equals("cached")) {
            if (decoder != null) {
                decoder.close();
            }
            decoder = model.decoder(new Generator(3));
            for (long t : prompt) {
                logits = decoder.next(t);
            }
        }
    }

    @Benchmark
    public long[] sample() {
        long[] tokens = java.util.Arrays.copyOf(prompt, prompt.length + NEW);
        for (int i = prompt.length; i < tokens.length; i++) {
            float[] l;
            if (mode.equals("cached")) {
                l = i == prompt.length ? logits : decoder.next(tokens[i - 1]);
            } else {
                try (GradMode.Scope off = GradMode.disabled(); MemoryScope scope = MemoryScope.open()) {
                    l = model.forward(Tensor.of(java.util.Arrays.copyOf(tokens, i), 1, i), null, new Generator(3)).data()
                            .slice(1, i - 1, i).toFloatArray();
                }
            }
            int best = 0;
            for (int v = 1; v < l.length; v++) {
                best = l[v] > l[best] ? v : best;
            }
            tokens[i] = best;
        }
        return tokens;
    }
}
