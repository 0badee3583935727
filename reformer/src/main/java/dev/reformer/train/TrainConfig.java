package dev.reformer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.model.ReformerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that determines a training run, written to {@code runs/<name>/config.json} and read
 * back on {@code --resume} and by {@code eval}. Two runs with equal configs write the same metrics.
 * The defaults are the project's main job: the duplication task at a CPU-sized configuration.
 */
public record TrainConfig(
        String task, int symbols, int wordLength,
        int layers, int dModel, int dFf, int heads, int headDim, String attention, int hashes, int chunk, int buckets,
        double dropout,
        long steps, int batch, double lr, long warmup, double weightDecay, double clip,
        long evalEvery, int evalBatches, long checkpointEvery, double stopAt, long seed,
        String data, int length, int vocab, String dataSha256, boolean sharedQk, boolean reversible) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The main job's settings: L = 256, one layer, d = 128, 4 heads of 32, LSH K = 2, chunk 32, batch 16, Adam 1e-3. */
    public static TrainConfig defaults() {
        return new TrainConfig("duplication", 128, 127,
                1, 128, 512, 4, 32, "lsh", 2, 32, 8, 0.0,
                3000, 16, 1e-3, 0, 0.0, 0.0,
                100, 4, 500, 0.99, 1,
                "", 256, 256, "", true, true);
    }

    /**
     * The defaults of {@code task}: {@link #defaults()} for duplication; for charlm, bytes of the
     * embedded sonnets in windows of 256, two layers (local attention, then LSH, so that cached
     * generation is exact), d = 128, dropout 0.1, AdamW 1e-3 with 100 warm-up steps, weight decay
     * 0.01, clipping at 1, 1,000 steps.
     */
    public static TrainConfig defaults(String task) {
        return switch (task) {
            case "duplication" -> defaults();
            case "charlm" -> new TrainConfig("charlm", 128, 127,
                    2, 128, 512, 4, 32, "local,lsh", 2, 32, 8, 0.1,
                    1000, 16, 1e-3, 100, 0.01, 1.0,
                    100, 4, 250, 0.0, 1,
                    "", 256, 256, "", true, true);
            default -> throw new TrainException("unknown task '" + task + "': use duplication or charlm");
        };
    }

    /** The task this config trains on. */
    public Task newTask() {
        return switch (task) {
            case "duplication" -> new DuplicationTask(symbols, wordLength, seed);
            case "charlm" -> CharLmTask.of(data, vocab, length, seed, dataSha256);
            default -> throw new TrainException("unknown task '" + task + "': use duplication or charlm");
        };
    }

    /** The model for {@code task}'s vocabulary and length, with this config's sizes. */
    public ReformerConfig modelConfig(Task t) {
        ReformerConfig.AttentionType[] types = java.util.Arrays.stream(attention.split(","))
                .map(ReformerConfig.AttentionType::parse).toArray(ReformerConfig.AttentionType[]::new);
        return ReformerConfig.builder()
                .vocabSize(t.vocabSize()).dModel(dModel).dFf(dFf).heads(heads).headDim(headDim).layers(layers)
                .attention(types).maxLength(t.length()).causal(true)
                .lshHashes(hashes).lshBuckets(buckets).lshChunkLength(chunk).localChunkLength(chunk)
                .lshLogitScale(1 / Math.sqrt(headDim == 0 ? (double) dModel / heads : headDim))
                .sharedQueryKey(sharedQk).reversible(reversible).ordinaryResidual(!reversible).dropout(dropout).seed(seed).build();
    }

    /** Checks the training settings (the model's are checked by {@link #modelConfig}). */
    public TrainConfig validate() {
        require(steps >= 1, "--steps " + steps + " must be at least 1");
        require(batch >= 1, "--batch " + batch + " must be at least 1");
        require(lr > 0 && Double.isFinite(lr), "--lr " + lr + " must be a positive number (for example 1e-3)");
        require(warmup >= 0 && warmup < steps, "--warmup " + warmup + " must be at least 0 and below --steps " + steps);
        require(weightDecay >= 0, "--weight-decay " + weightDecay + " must be at least 0");
        require(clip >= 0, "--clip " + clip + " must be at least 0 (0 turns clipping off)");
        require(evalEvery >= 1, "--eval-every " + evalEvery + " must be at least 1");
        require(evalBatches >= 1, "--eval-batches " + evalBatches + " must be at least 1");
        require(checkpointEvery >= 1, "--checkpoint-every " + checkpointEvery + " must be at least 1");
        require(stopAt >= 0 && stopAt <= 1, "--stop-at " + stopAt + " must be an accuracy in [0, 1] (0 never stops early)");
        require(hashes >= 1, "--n-hashes " + hashes + " must be at least 1");
        require(sharedQk || !java.util.Arrays.asList(attention.split(",")).contains("lsh"),
                "--no-shared-qk: LSH attention hashes one shared query-key vector, so it needs --shared-qk; use"
                        + " --attention full or local for separate queries and keys");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new TrainException(message);
        }
    }

    /** The config as JSON fields in a fixed order (also the names of the command-line flags, with - for _). */
    public Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("task", task);
        f.put("symbols", symbols);
        f.put("word_length", wordLength);
        f.put("layers", layers);
        f.put("d_model", dModel);
        f.put("d_ff", dFf);
        f.put("heads", heads);
        f.put("head_dim", headDim);
        f.put("attention", attention);
        f.put("n_hashes", hashes);
        f.put("chunk", chunk);
        f.put("buckets", buckets);
        f.put("dropout", dropout);
        f.put("steps", steps);
        f.put("batch", batch);
        f.put("lr", lr);
        f.put("warmup", warmup);
        f.put("weight_decay", weightDecay);
        f.put("clip", clip);
        f.put("eval_every", evalEvery);
        f.put("eval_batches", evalBatches);
        f.put("checkpoint_every", checkpointEvery);
        f.put("stop_at", stopAt);
        f.put("seed", seed);
        f.put("data", data);
        f.put("length", length);
        f.put("vocab", vocab);
        f.put("data_sha256", dataSha256);
        f.put("shared_qk", sharedQk);
        f.put("reversible", reversible);
        return f;
    }

    public String toJson() {
        ObjectNode node = JSON.createObjectNode();
        fields().forEach((k, v) -> node.set(k, JSON.valueToTree(v)));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A copy with the fields in {@code changes} (keys of {@link #fields()}) replaced. */
    public TrainConfig with(Map<String, Object> changes) {
        Map<String, Object> f = fields();
        for (String key : changes.keySet()) {
            if (!f.containsKey(key)) {
                throw new IllegalArgumentException("TrainConfig has no field '" + key + "'");
            }
        }
        f.putAll(changes);
        return fromTree(JSON.valueToTree(f), "the options");
    }

    /** Reads a config written by {@link #toJson}; {@code where} names the file in errors. */
    public static TrainConfig fromJson(String text, String where) {
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new TrainException(where + " is not valid JSON (" + e.getOriginalMessage() + "): restore it or start a new run");
        }
        if (n == null || !n.isObject()) {
            throw new TrainException(where + " does not hold a JSON object: restore it or start a new run");
        }
        return fromTree(n, where);
    }

    private static TrainConfig fromTree(JsonNode n, String where) {
        Reader r = new Reader(n, where);
        return new TrainConfig(r.text("task"), r.integer("symbols"), r.integer("word_length"),
                r.integer("layers"), r.integer("d_model"), r.integer("d_ff"), r.integer("heads"), r.integer("head_dim"),
                r.text("attention"), r.integer("n_hashes"), r.integer("chunk"), r.integer("buckets"), r.number("dropout"),
                r.whole("steps"), r.integer("batch"), r.number("lr"), r.whole("warmup"), r.number("weight_decay"),
                r.number("clip"), r.whole("eval_every"), r.integer("eval_batches"), r.whole("checkpoint_every"),
                r.number("stop_at"), r.whole("seed"), r.text("data"), r.integer("length"), r.integer("vocab"),
                r.text("data_sha256"), r.bool("shared_qk", true), r.bool("reversible", true));
    }

    private record Reader(JsonNode n, String where) {
        JsonNode field(String key) {
            JsonNode v = n.get(key);
            if (v == null || v.isNull() || v.isMissingNode()) {
                throw new TrainException(where + " has no field '" + key + "': restore the file or start a new run");
            }
            return v;
        }

        String text(String key) {
            return field(key).asText();
        }

        /** A true/false field; configs written before the field existed hold {@code absent}. */
        boolean bool(String key, boolean absent) {
            JsonNode v = n.get(key);
            if (v == null || v.isMissingNode()) {
                return absent;
            }
            if (!v.isBoolean()) {
                throw new TrainException(where + ": field '" + key + "' is " + v + " but must be true or false");
            }
            return v.asBoolean();
        }

        int integer(String key) {
            long v = whole(key);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new TrainException(where + ": field '" + key + "' is " + v + ", too large for it");
            }
            return (int) v;
        }

        long whole(String key) {
            JsonNode v = field(key);
            if (!v.canConvertToLong() || !v.isIntegralNumber()) {
                throw new TrainException(where + ": field '" + key + "' is " + v + " but must be a whole number");
            }
            return v.asLong();
        }

        double number(String key) {
            JsonNode v = field(key);
            if (!v.isNumber()) {
                throw new TrainException(where + ": field '" + key + "' is " + v + " but must be a number");
            }
            return v.asDouble();
        }
    }
}
