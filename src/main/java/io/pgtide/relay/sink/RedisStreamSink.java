package io.pgtide.relay.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.OutboxHeaderFilter;
import io.pgtide.relay.batch.TideConstants;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.service.ServiceSupport;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.util.JedisURIHelper;

// camel-spring-redis has no stream commands, so this uses the Jedis client it brings. It is configured like an
// endpoint (url, stream, timeout) as a bean of the pipeline file, and started and stopped with its route.
/** Appends a batch of outbox messages to a Redis stream, one XADD each in one pipelined round trip, every reply checked. */
public final class RedisStreamSink extends ServiceSupport implements Processor {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final OutboxHeaderFilter FILTER = new OutboxHeaderFilter();

    private String url;
    private String stream;
    private int timeout = 5000;
    private RedisClient client;
    private String shownUrl;

    /** {@code redis[s]://[[user][:password]@]host[:port][/database]}. */
    public void setUrl(String url) {
        this.url = url;
    }

    /** The stream's key, e.g. {@code pg-tide:orders}. */
    public void setStream(String stream) {
        this.stream = stream;
    }

    /** Connect and read timeout in milliseconds. */
    public void setTimeout(int timeout) {
        this.timeout = timeout;
    }

    @Override
    protected void doStart() {
        if (stream == null || stream.isBlank()) {
            throw new IllegalArgumentException("Redis stream sink: the setting 'stream' is required");
        }
        URI uri = parse(url);
        shownUrl = withoutPassword(uri);
        DefaultJedisClientConfig config = DefaultJedisClientConfig.builder()
                .user(JedisURIHelper.getUser(uri))
                .password(JedisURIHelper.getPassword(uri))
                .database(JedisURIHelper.getDBIndex(uri))
                .protocol(JedisURIHelper.getRedisProtocol(uri))
                .ssl(JedisURIHelper.isRedisSSLScheme(uri))
                .connectionTimeoutMillis(timeout)
                .socketTimeoutMillis(timeout)
                .clientName("pg-tide")
                .build();
        // connects on first use: an unreachable server fails batches (and is retried), not the relay's start
        client = RedisClient.builder().clientConfig(config).hostAndPort(JedisURIHelper.getHostAndPort(uri)).build();
    }

    @Override
    protected void doStop() {
        if (client != null) {
            client.close();
            client = null;
        }
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        List<Message> messages = OutboxBatch.messages(exchange);
        if (messages.isEmpty()) {
            return;
        }
        List<Response<StreamEntryID>> replies = new ArrayList<>(messages.size());
        try (Pipeline pipeline = client.pipelined()) {
            for (Message message : messages) {
                replies.add(pipeline.xadd(stream, XAddParams.xAddParams(), fields(message)));
            }
            pipeline.sync();
            for (int i = 0; i < replies.size(); i++) {
                // get() throws the error Redis answered to this XADD (WRONGTYPE, OOM, NOPERM...)
                if (replies.get(i).get() == null) {
                    throw new IOException("no entry id for message " + messages.get(i).getHeader(TideConstants.MESSAGE_ID));
                }
            }
        } catch (RuntimeException | IOException e) {
            // the setting's name and value (password masked): the error a user reads should say where it failed
            throw new IOException("Redis stream sink: XADD to stream '" + stream + "' at url " + shownUrl + " failed: "
                    + e.getMessage(), e);
        }
    }

    private static Map<String, String> fields(Message message) throws JsonProcessingException {
        Map<String, Object> headers = new LinkedHashMap<>();
        message.getHeaders().forEach((name, value) -> {
            if (!FILTER.internal(name, value)) {
                headers.put(name, value);
            }
        });
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("id", String.valueOf(message.getHeader(TideConstants.MESSAGE_ID)));
        Object key = message.getHeader(TideConstants.KEY);
        if (key != null) {
            // Redis has no null field value: a row without a key has no key field
            fields.put("key", key.toString());
        }
        fields.put("headers", JSON.writeValueAsString(headers));
        fields.put("payload", message.getBody(String.class));
        return fields;
    }

    private static URI parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("Redis stream sink: the setting 'url' is required");
        }
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Redis stream sink: the setting 'url' is not a URI (" + e.getMessage() + ")");
        }
        if (!JedisURIHelper.isValid(uri) || !(JedisURIHelper.isRedisScheme(uri) || JedisURIHelper.isRedisSSLScheme(uri))) {
            throw new IllegalArgumentException("Redis stream sink: the setting 'url' must look like"
                    + " redis://[user:password@]host:port[/db], not " + withoutPassword(uri));
        }
        return uri;
    }

    /** The URL as it may appear in logs: any password replaced by ***. */
    private static String withoutPassword(URI uri) {
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null || !userInfo.contains(":")) {
            return uri.toString();
        }
        return uri.toString().replace(userInfo + "@", userInfo.substring(0, userInfo.indexOf(':')) + ":***@");
    }
}
