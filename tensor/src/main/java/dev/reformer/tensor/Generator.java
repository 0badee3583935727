package dev.reformer.tensor;

import java.util.SplittableRandom;

/**
 * An explicit, seeded source of random numbers. There is no global random state anywhere in the
 * engine: every op that draws (initialisation, dropout, LSH rotations) takes a {@code Generator},
 * so a seed fully determines a run.
 *
 * <p>Uniform numbers come from {@link SplittableRandom} (the SplitMix64 algorithm, whose output is
 * specified and stable across JDK versions); normal numbers from the Box-Muller transform
 * {@code z = sqrt(-2 ln u1) * cos(2 pi u2)}, written out here with {@link StrictMath} (whose results
 * are specified bit for bit) so that no JVM or library change can alter them.
 *
 * <pre>{@code
 * Generator gen = new Generator(42);
 * Tensor w = gen.normal(DType.FLOAT32, 0.0, 0.02, 512, 512);
 * Generator dropoutStream = gen.split();   // an independent child stream
 * }</pre>
 */
public final class Generator {
    private final SplittableRandom random;

    public Generator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    private Generator(SplittableRandom random) {
        this.random = random;
    }

    /** A child generator whose stream is independent of this one's and determined by it. */
    public Generator split() {
        return new Generator(random.split());
    }

    /** A fresh seed, for state that must be replayed later (dropout masks, hash rotations). */
    public long nextSeed() {
        return random.nextLong();
    }

    /** Uniform in [0, 1). */
    public double nextUniform() {
        return random.nextDouble();
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Normal values with the given mean and standard deviation. */
    public Tensor normal(DType dtype, double mean, double std, long... shape) {
        requireFloating("normal", dtype);
        double[] values = new double[Math.toIntExact(Shapes.numel(shape))];
        for (int i = 0; i < values.length; i += 2) {
            // Box-Muller: two independent uniforms give two independent standard normals.
            double u1 = 1.0 - random.nextDouble(); // in (0, 1], so log(u1) is finite
            double u2 = random.nextDouble();
            double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            values[i] = mean + std * radius * StrictMath.cos(2 * Math.PI * u2);
            if (i + 1 < values.length) {
                values[i + 1] = mean + std * radius * StrictMath.sin(2 * Math.PI * u2);
            }
        }
        return Tensor.of(values, shape).cast(dtype);
    }

    /** Uniform values in [low, high). */
    public Tensor uniform(DType dtype, double low, double high, long... shape) {
        requireFloating("uniform", dtype);
        double[] values = new double[Math.toIntExact(Shapes.numel(shape))];
        for (int i = 0; i < values.length; i++) {
            values[i] = low + (high - low) * random.nextDouble();
        }
        return Tensor.of(values, shape).cast(dtype);
    }

    private static void requireFloating(String op, DType dtype) {
        if (!dtype.isFloating()) {
            throw new DTypeException(op + ": dtype " + dtype.label()
                    + " is not a floating type; draw float32 or float64 and cast");
        }
    }
}
