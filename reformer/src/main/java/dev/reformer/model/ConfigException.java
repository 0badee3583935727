package dev.reformer.model;

/** A model configuration that cannot work, with what to change: thrown before any work starts. */
public class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }
}
