package io.pgtide.relay.sink;

import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.camel.component.kafka.DefaultKafkaClientFactory;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * camel-kafka's client factory for the relay ({@code camel.component.kafka.kafkaClientFactory}): its producers send
 * what they hold the moment someone waits for a result, instead of when {@code linger.ms} runs out. A pipeline sends
 * its batch, then waits for every acknowledgement; with a linger the batch goes to the broker in a few full requests,
 * and the flush sends the last, partly filled one without lingering. With no linger at all, a producer sends each
 * request as soon as the one before it leaves, so a batch appended one record at a time goes in dozens of small ones.
 */
public final class FlushingKafkaClientFactory extends DefaultKafkaClientFactory {

    @Override
    public Producer getProducer(Properties kafkaProps) {
        return new FlushOnAwaitProducer<>(kafkaProps);
    }

    /**
     * A Kafka producer whose send results flush the producer when awaited without a time limit. A wait with a
     * time limit does not flush: a flush lasts until every record sent so far completes, which could outlast it.
     */
    static final class FlushOnAwaitProducer<K, V> extends KafkaProducer<K, V> {
        /** Records went in since the last flush began: the next wait must flush first. */
        private volatile boolean unflushed;

        FlushOnAwaitProducer(Properties properties) {
            super(properties);
        }

        @Override
        public Future<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback) {
            Future<RecordMetadata> sent = super.send(record, callback);
            unflushed = true;
            failIfNoBroker(sent);
            return new FlushingFuture(sent);
        }

        /**
         * A record that could not even be queued, because no broker told where its topic lives within
         * {@code max.block.ms}, fails the batch at once: Kafka returns that failure in the future, and camel-kafka
         * would send every other record of the batch, each waiting as long again (a batch of 1000 for hours).
         */
        private static void failIfNoBroker(Future<RecordMetadata> sent) {
            if (!sent.isDone()) {
                return;
            }
            try {
                sent.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException noBroker) {
                    throw noBroker;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Cleared before the flush: a record sent while it runs sets it again, and its own wait flushes it. */
        private void flushIfNeeded() {
            if (unflushed) {
                unflushed = false;
                flush();
            }
        }

        private final class FlushingFuture implements Future<RecordMetadata> {
            private final Future<RecordMetadata> sent;

            FlushingFuture(Future<RecordMetadata> sent) {
                this.sent = sent;
            }

            @Override
            public RecordMetadata get() throws InterruptedException, ExecutionException {
                flushIfNeeded();
                return sent.get();
            }

            @Override
            public RecordMetadata get(long timeout, TimeUnit unit)
                    throws InterruptedException, ExecutionException, TimeoutException {
                return sent.get(timeout, unit);
            }

            @Override
            public boolean isDone() {
                return sent.isDone();
            }

            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return sent.cancel(mayInterruptIfRunning);
            }

            @Override
            public boolean isCancelled() {
                return sent.isCancelled();
            }
        }
    }
}
