package dev.reformer.train;

import dev.reformer.autograd.GradMode;
import dev.reformer.model.Decoder;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/**
 * Sampling from a trained model, token by token: the logits of the next token are divided by the
 * temperature, cut to the {@code topK} most likely (0 keeps all), turned into probabilities and
 * sampled with one uniform draw per token from a generator seeded by {@code seed}. Temperature 0
 * takes the most likely token.
 *
 * <p>Two sources of logits ({@link NextLogits}), which give the same tokens: {@link #cached}, a
 * {@link Decoder} fed one token at a time, and {@link #recomputed}, the model's forward over the
 * whole sequence so far for every token. Both hand the model the same random stream, so LSH
 * uses the same rotations. The cache is refused where it cannot be exact ({@link Decoder#isExact}).
 */
public final class Generation {
    private Generation() {
    }

    /** How to sample. */
    public record Settings(double temperature, int topK, long seed) {
        public Settings {
            if (!(temperature >= 0) || !Double.isFinite(temperature)) {
                throw new TrainException("--temperature " + temperature + " must be at least 0 (0 takes the most likely token)");
            }
            if (topK < 0) {
                throw new TrainException("--top-k " + topK + " must be at least 0 (0 keeps every token)");
            }
        }
    }

    /** Where the logits of the next token come from: a model run over the tokens so far. */
    public interface NextLogits extends AutoCloseable {
        /** The logits after the first {@code length} of {@code tokens}; called with length growing by one. */
        float[] after(long[] tokens, int length);

        @Override
        void close();
    }

    /**
     * With the cache: a {@link Decoder} fed each token once (the model is put in evaluation mode).
     * Refused for a model where the cache cannot give the whole-sequence logits
     * ({@link Decoder#isExact}): use {@link #recomputed}.
     */
    public static NextLogits cached(ReformerLM model, long seed) {
        model.train(false);
        if (!Decoder.isExact(model)) {
            throw new TrainException("this model has an LSH layer below another attention layer, whose cached outputs differ"
                    + " from a fresh pass: generate without the cache (--no-cache)");
        }
        return new Cached(model.decoder(new Generator(modelSeed(seed))));
    }

    /** Without a cache: a forward pass over the whole sequence so far for every token. */
    public static NextLogits recomputed(ReformerLM model, long seed) {
        return new Recomputed(model, modelSeed(seed));
    }

    /** The seed of the model's random stream (LSH rotations), the same for both sources. */
    private static long modelSeed(long seed) {
        return Seeds.generator(seed, "generate/model", 0).nextSeed();
    }

    private static final class Cached implements NextLogits {
        private final Decoder decoder;
        private float[] logits;

        Cached(Decoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public float[] after(long[] tokens, int length) {
            while (decoder.length() < length) {
                logits = decoder.next(tokens[decoder.length()]);
            }
            return logits;
        }

        @Override
        public void close() {
            decoder.close();
        }
    }

    private record Recomputed(ReformerLM model, long modelSeed) implements NextLogits {
        @Override
        public float[] after(long[] tokens, int length) {
            try (GradMode.Scope off = GradMode.disabled(); MemoryScope scope = MemoryScope.open()) {
                Tensor ids = Tensor.of(Arrays.copyOf(tokens, length), 1, length);
                Tensor logits = model.forward(ids, null, new Generator(modelSeed)).data();  // (1, L, V)
                return logits.slice(1, length - 1, length).toFloatArray();
            }
        }

        @Override
        public void close() {
        }
    }

    /**
     * {@code count} tokens sampled after {@code prompt} (non-empty) from the logits of
     * {@code source}, made by {@link #cached} or {@link #recomputed} for {@code model}.
     */
    public static long[] sample(ReformerLM model, long[] prompt, int count, Settings settings, NextLogits source) {
        long vocab = model.config().vocabSize();
        if (prompt.length == 0) {
            throw new TrainException("the prompt is empty: give at least one token");
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new TrainException("prompt token " + prompt[i] + " at position " + i + " is outside the model's vocabulary"
                        + " of " + vocab + " (for a byte model: a byte of " + vocab + " or more; use a 7-bit prompt)");
            }
        }
        long limit = model.config().maxLength();
        if (prompt.length >= limit) {
            throw new TrainException("the prompt (" + prompt.length + " tokens) fills the model's " + limit + " positions:"
                    + " shorten it to at most " + (limit - 1) + " tokens");
        }
        if (prompt.length + (long) count > limit) {
            throw new TrainException("the prompt (" + prompt.length + " tokens) and " + count + " new tokens exceed the model's "
                    + limit + " positions: ask for at most " + (limit - prompt.length) + " tokens");
        }
        boolean wasTraining = model.isTraining();
        model.train(false);
        try {
            Generator draws = Seeds.generator(settings.seed(), "generate/sample", 0);
            long[] tokens = Arrays.copyOf(prompt, prompt.length + count);
            for (int i = prompt.length; i < tokens.length; i++) {
                tokens[i] = pick(source.after(tokens, i), settings.temperature(), settings.topK(), draws.nextUniform());
            }
            return Arrays.copyOfRange(tokens, prompt.length, tokens.length);
        } finally {
            model.train(wasTraining);
        }
    }

    /** The token that uniform draw {@code u} picks from {@code logits}. */
    static int pick(float[] logits, double temperature, int topK, double u) {
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        if (temperature == 0) {
            return order[0];
        }
        int kept = topK == 0 ? logits.length : Math.min(topK, logits.length);
        double max = logits[order[0]] / temperature;
        double[] weights = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            weights[i] = Math.exp(logits[order[i]] / temperature - max);
            sum += weights[i];
        }
        double target = u * sum;
        double running = 0;
        for (int i = 0; i < kept; i++) {
            running += weights[i];
            if (target < running) {
                return order[i];
            }
        }
        return order[kept - 1];
    }
}
