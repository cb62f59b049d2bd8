package io.pgtide.relay.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;

/**
 * One relay setting, declared once ({@link RelaySettings#ALL}): its variable (and an older alias), its default as
 * text, its unit, the rule that reads it and the one-line doc. The README's settings table shows the same rows
 * (ReadmeSettingsTest).
 *
 * @param alias a second name read when {@code name} is unset, or null
 * @param fallback the value when the variable is unset, as the user would write it; null: no default (the rule decides)
 * @param unit what a number counts ({@code ms}, {@code s}), or null
 */
public record Setting<T>(String name, String alias, String fallback, String unit, Rule<T> rule, String doc) {

    /** Reads a setting's text (null when unset and without default); a wrong value throws, naming the setting. */
    @FunctionalInterface
    public interface Rule<T> {
        T read(String setting, String value);
    }

    static final Rule<String> TEXT = (setting, value) -> value;

    static Setting<String> text(String name, String fallback, String doc) {
        return new Setting<>(name, null, fallback, null, TEXT, doc);
    }

    static Setting<Integer> number(String name, int fallback, int min, int max, String expected, String doc) {
        return new Setting<>(name, null, String.valueOf(fallback), null, wholeNumber(min, max, expected), doc);
    }

    /** A duration in whole {@code unit}s, {@code min} or more (0: the feature is off). */
    static Setting<Duration> duration(String name, int fallback, int min, ChronoUnit unit, String doc) {
        Rule<Integer> number = wholeNumber(min, Integer.MAX_VALUE,
                min == 0 ? "a whole number, 0 or more" : "a positive whole number");
        return new Setting<>(name, null, String.valueOf(fallback), unit == ChronoUnit.MILLIS ? "ms" : "s",
                (setting, value) -> Duration.of(number.read(setting, value), unit), doc);
    }

    static Setting<Boolean> flag(String name, boolean fallback, String doc) {
        return new Setting<>(name, null, String.valueOf(fallback), null, (setting, value) -> {
            if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(value);
            }
            throw new SettingException(setting + " must be true or false, not \"" + value + "\"");
        }, doc);
    }

    /** Comma-separated words; unset is the empty list. */
    static Setting<List<String>> list(String name, String doc) {
        return new Setting<>(name, null, null, null, (setting, value) -> value == null ? List.of()
                : Arrays.stream(value.split(",")).map(String::strip).filter(word -> !word.isEmpty()).toList(), doc);
    }

    /** The same setting under a second name, read when the first is unset. */
    Setting<T> or(String alias) {
        return new Setting<>(name, alias, fallback, unit, rule, doc);
    }

    /** The same setting with another rule (for a check that needs more than the kind of value). */
    <R> Setting<R> checked(Rule<R> check) {
        return new Setting<>(name, alias, fallback, unit, check, doc);
    }

    private static Rule<Integer> wholeNumber(int min, int max, String expected) {
        return (setting, value) -> {
            try {
                int parsed = Integer.parseInt(value);
                if (parsed >= min && parsed <= max) {
                    return parsed;
                }
            } catch (NumberFormatException ignored) {
                // reported below with the setting's name
            }
            throw new SettingException(setting + " must be " + expected + ", not \"" + value + "\"");
        };
    }
}
