package dev.reformer.train;

/**
 * Bad input to training, evaluation or generation (a flag, a data file, a checkpoint, a run
 * directory): the message names what is wrong and how to fix it, and nothing has been written.
 */
public class TrainException extends IllegalArgumentException {
    public TrainException(String message) {
        super(message);
    }
}
