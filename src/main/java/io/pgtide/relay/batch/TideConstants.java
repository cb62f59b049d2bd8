package io.pgtide.relay.batch;

import org.apache.camel.spi.Metadata;

/**
 * The contract of a polled batch: the headers every outbox message carries and the exchange property that says where
 * the batch stands, documented the way Camel components document theirs (camel-sql's {@code SqlConstants}).
 */
public final class TideConstants {

    @Metadata(label = "consumer", description = "The message's stable id, tide.message_id: <outbox>:<id>, the same on"
            + " every redelivery, for deduplication. Also the Camel message id.", javaType = "String", important = true)
    public static final String MESSAGE_ID = "pg_tide_message_id";

    @Metadata(label = "consumer", description = "The outbox the message was published to.", javaType = "String")
    public static final String OUTBOX = "pg_tide_outbox";

    @Metadata(label = "consumer", description = "The message's id within its outbox, as text.", javaType = "String")
    public static final String ID = "pg_tide_id";

    @Metadata(label = "consumer", description = "The message's key (ordering and partition key); absent when the row has"
            + " none.", javaType = "String")
    public static final String KEY = "pg_tide_key";

    @Metadata(label = "consumer", description = "Exchange property: where each message of the batch stands in (tx, id)"
            + " order, set before any step can change the body; the offset advances by it.",
            javaType = "io.pgtide.relay.batch.Batch")
    public static final String BATCH = "PgTideBatch";

    private TideConstants() {
    }
}
