package dev.reformer.train;

import dev.reformer.tensor.Generator;

/**
 * The random streams of a run, each derived from the run's seed, a stream name and an index
 * (the step), never from a generator that lives across steps. So the randomness of step s is
 * known without replaying steps 0..s-1: a resumed run draws exactly what an uninterrupted one
 * would, and a checkpoint needs only the seed and the step as its generator state.
 */
public final class Seeds {
    private Seeds() {
    }

    /** The generator of stream {@code stream} at {@code index} of a run seeded with {@code seed}. */
    public static Generator generator(long seed, String stream, long index) {
        long h = mix(seed ^ 0x5DEECE66DL);
        for (int i = 0; i < stream.length(); i++) {
            h = mix(h ^ stream.charAt(i));
        }
        return new Generator(mix(h ^ mix(index + 0x9E3779B97F4A7C15L)));
    }

    /** SplitMix64's finaliser: a bijection of 64-bit values that scatters nearby inputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
