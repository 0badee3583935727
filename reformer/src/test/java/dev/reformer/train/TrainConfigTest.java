package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config's newer fields: shared QK and reversible layers. */
class TrainConfigTest {
    @Test
    void aConfigWrittenBeforeTheFieldsExistedReadsAsSharedAndReversible() {
        String json = TrainConfig.defaults().toJson().replaceAll(",\\s*\"shared_qk\" : true", "")
                .replaceAll(",\\s*\"reversible\" : true", "");
        assertThat(json).doesNotContain("shared_qk").doesNotContain("reversible");
        assertThat(TrainConfig.fromJson(json, "config.json")).isEqualTo(TrainConfig.defaults());
    }

    @Test
    void theFieldsReachTheModelAndSurviveJson() {
        TrainConfig c = TrainConfig.defaults().with(Map.of("attention", "full", "shared_qk", false, "reversible", false));
        assertThat(TrainConfig.fromJson(c.toJson(), "config.json")).isEqualTo(c);
        var model = c.modelConfig(c.newTask());
        assertThat(model.sharedQueryKey()).isFalse();
        assertThat(model.reversible()).isFalse();
        assertThat(model.ordinaryResidual()).as("--no-reversible trains a standard Transformer").isTrue();
        String bad = c.toJson().replace("\"reversible\" : false", "\"reversible\" : \"no\"");
        assertThatThrownBy(() -> TrainConfig.fromJson(bad, "config.json")).isInstanceOf(TrainException.class)
                .hasMessageContaining("field 'reversible' is \"no\" but must be true or false");
    }

    @Test
    void lshWithSeparateQueriesAndKeysIsRefused() {
        TrainConfig c = TrainConfig.defaults().with(Map.of("shared_qk", false));
        assertThatThrownBy(c::validate).isInstanceOf(TrainException.class)
                .hasMessageContaining("LSH attention hashes one shared query-key vector");
    }
}
