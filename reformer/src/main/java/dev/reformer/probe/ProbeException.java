package dev.reformer.probe;

/** A probe case that cannot be run: the one-line message names the field and what was expected. */
public class ProbeException extends IllegalArgumentException {
    public ProbeException(String message) {
        super(message);
    }
}
