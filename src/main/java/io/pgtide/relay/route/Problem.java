package io.pgtide.relay.route;

import java.nio.file.Path;

/**
 * Why a pipeline file is refused: where (file and line, 0 when the line is unknown) and what to write instead.
 */
public record Problem(Path file, int line, String message) {

    @Override
    public String toString() {
        return file + (line > 0 ? ":" + line : "") + ": " + message;
    }
}
