package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharLmTaskTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("text.bin");
        Files.write(f, bytes);
        return f;
    }

    @Test
    void splitsNinetyFiveFiveAndPredictsTheNextByte() throws IOException {
        byte[] text = new byte[100_000];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + i % 26);
        }
        CharLmTask task = CharLmTask.of(file(text).toString(), 256, 64, 3);
        assertThat(task.describe()).contains("train 90,000", "validation 5,000", "test 5,000");
        Batch b = task.trainBatch(7, 4);
        long[] in = b.inputs().toLongArray();
        long[] out = b.targets().toLongArray();
        for (int i = 0; i < in.length; i++) {
            assertThat(out[i]).isEqualTo('a' + (in[i] - 'a' + 1) % 26);
        }
        assertThat(b.scored()).isEqualTo(4 * 64);
        assertThat(task.trainBatch(7, 4).inputs().toLongArray()).isEqualTo(in);
        assertThat(task.trainBatch(8, 4).inputs().toLongArray()).isNotEqualTo(in);
        // evaluation windows are consecutive, inside the validation split
        long[] eval = task.evalBatch(0, 2).inputs().toLongArray();
        assertThat(eval[0]).isEqualTo(text[90_000]);
        assertThat(eval[64]).isEqualTo(text[90_064]);
    }

    @Test
    void theEmbeddedTextIsTheDefaultAndItsValidationWindowsAreEachReadOnce() {
        CharLmTask task = CharLmTask.of("", 128, 256, 1);
        assertThat(task.describe()).contains("Sonnets", "94,995 bytes");
        assertThat(task.trainBatch(0, 2).inputs().numel()).isEqualTo(512);
        // 4,750 validation bytes hold 18 windows of 256 + 1: one batch of 16 and one of 2, however many are asked for
        assertThat(task.evalBatches(4, 16)).isEqualTo(2);
        assertThat(task.evalBatches(1, 16)).isEqualTo(1);
        assertThat(task.evalBatch(1, 16).inputs().shape()).containsExactly(2, 256);
    }

    @Test
    void aDataFileThatChangedSinceTheRunStartedIsRefused() throws IOException {
        byte[] text = new byte[5000];
        java.util.Arrays.fill(text, (byte) 'a');
        Path f = file(text);
        String sha = CharLmTask.of(f.toString(), 256, 64, 1).sha256();
        assertThat(CharLmTask.of(f.toString(), 256, 64, 1, sha).sha256()).isEqualTo(sha);
        text[10] = 'b';
        Files.write(f, text);
        assertThatThrownBy(() -> CharLmTask.of(f.toString(), 256, 64, 1, sha))
                .isInstanceOf(TrainException.class).hasMessageContaining("has changed since the run started");
    }

    @Test
    void badDataIsRefusedWithTheFix() throws IOException {
        assertThatThrownBy(() -> CharLmTask.of(dir.resolve("missing.txt").toString(), 256, 64, 1))
                .isInstanceOf(TrainException.class).hasMessageContaining("no such file");
        assertThatThrownBy(() -> CharLmTask.of(file(new byte[0]).toString(), 256, 64, 1))
                .isInstanceOf(TrainException.class).hasMessageContaining("is empty");
        assertThatThrownBy(() -> CharLmTask.of(file(new byte[1000]).toString(), 256, 64, 1))
                .isInstanceOf(TrainException.class).hasMessageContaining("too short", "1301 bytes");
        byte[] high = new byte[5000];
        high[1234] = (byte) 200;
        assertThatThrownBy(() -> CharLmTask.of(file(high).toString(), 128, 64, 1))
                .isInstanceOf(TrainException.class).hasMessageContaining("byte 200 at offset 1234", "--vocab 256");
        assertThatThrownBy(() -> CharLmTask.of(dir.toString(), 256, 64, 1))
                .isInstanceOf(TrainException.class).hasMessageContaining("is a directory");
    }
}
