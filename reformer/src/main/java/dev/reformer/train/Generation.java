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
 * <p>Two ways to get the logits, which give the same tokens (see {@link Decoder#exact()}): with the
 * cache, a {@link Decoder} feeds one token at a time; without it, every token runs the model's
 * forward over the whole sequence so far. Both hand the model the same random stream, so LSH
 * uses the same rotations.
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

    /** {@code count} tokens sampled after {@code prompt} (non-empty), with or without the cache. */
    public static long[] sample(ReformerLM model, long[] prompt, int count, Settings settings, boolean cached) {
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
        if (prompt.length + (long) count > limit) {
            throw new TrainException("the prompt (" + prompt.length + " tokens) and " + count + " new tokens exceed the model's "
                    + limit + " positions: ask for at most " + Math.max(0, limit - prompt.length) + " tokens");
        }
        boolean wasTraining = model.isTraining();
        model.train(false);
        try {
            Generator draws = Seeds.generator(settings.seed(), "generate/sample", 0);
            long modelSeed = Seeds.generator(settings.seed(), "generate/model", 0).nextSeed();
            long[] tokens = Arrays.copyOf(prompt, prompt.length + count);
            Decoder decoder = cached ? model.decoder(new Generator(modelSeed)) : null;
            float[] logits = null;
            if (cached) {
                for (long t : prompt) {
                    logits = decoder.next(t);
                }
            }
            for (int i = prompt.length; i < tokens.length; i++) {
                if (!cached) {
                    logits = lastLogits(model, tokens, i, modelSeed);
                }
                tokens[i] = pick(logits, settings.temperature(), settings.topK(), draws.nextUniform());
                if (cached && i + 1 < tokens.length) {
                    logits = decoder.next(tokens[i]);
                }
            }
            return Arrays.copyOfRange(tokens, prompt.length, tokens.length);
        } finally {
            model.train(wasTraining);
        }
    }

    /** The logits after the first {@code length} tokens: a whole forward pass. */
    private static float[] lastLogits(ReformerLM model, long[] tokens, int length, long modelSeed) {
        try (GradMode.Scope off = GradMode.disabled(); MemoryScope scope = MemoryScope.open()) {
            Tensor ids = Tensor.of(Arrays.copyOf(tokens, length), 1, length);
            Tensor logits = model.forward(ids, null, new Generator(modelSeed)).data();     // (1, L, V)
            return logits.slice(1, length - 1, length).toFloatArray();
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
