package io.pgtide.relay.config;

/** A setting is missing or wrong; the message names the setting and never holds a secret. */
public class SettingException extends RuntimeException {

    public SettingException(String message) {
        super(message);
    }
}
