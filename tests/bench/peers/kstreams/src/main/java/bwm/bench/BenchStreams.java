/*
 * BenchStreams: the bench jobs of tests/bench/jobs written with Kafka Streams,
 * for comparison with bwm on the same broker and the same input.
 *
 *   s1  filter (ignition and speed >= 0) and project five fields;
 *   s2  COUNT, SUM(distance_km), AVG(speed), MAX(speed) per vin, no window,
 *       every change emitted (coalesced by the record cache per commit);
 *   s4  the same per vin and 60 s tumbling window with 5 s grace, one final
 *       result per window (suppress until the window closes).
 *
 * Input values are Confluent-framed Avro (schemas/telemetry.avsc): the serde
 * strips the 5-byte header and reads the body with GenericDatumReader.
 * Results are Confluent-framed Avro too, their schemas registered in the
 * schema registry. States live in RocksDB (the default stores) with
 * changelogs. The app snapshots the input's end offsets at start, runs until
 * it has read that many records, closes (which flushes and commits) and
 * prints one JSON line: records read, seconds from start to closed.
 *
 * Usage: BenchStreams SCENARIO BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR SCHEMA REGISTRY
 *                     COMMIT_MS
 */
package bwm.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

public final class BenchStreams {
    private static final String RESULT_NS = "bwm.results";

    /* Reads Confluent-framed Avro: magic byte 0, a 4-byte schema id, the body. */
    static final class FramedReader implements Deserializer<GenericRecord> {
        private final GenericDatumReader<GenericRecord> reader;
        private BinaryDecoder decoder;

        FramedReader(Schema schema) {
            reader = new GenericDatumReader<>(schema);
        }

        @Override
        public GenericRecord deserialize(String topic, byte[] data) {
            if (data == null || data.length < 5 || data[0] != 0) {
                throw new IllegalArgumentException("not a Confluent-framed Avro record");
            }
            decoder = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, decoder);
            try {
                return reader.read(null, decoder);
            } catch (IOException e) {
                throw new IllegalArgumentException("undecodable record", e);
            }
        }
    }

    /* Writes Confluent-framed Avro with a registered schema id. */
    static final class FramedWriter implements Serializer<GenericRecord> {
        private final GenericDatumWriter<GenericRecord> writer;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        private final int id;
        private BinaryEncoder encoder;

        FramedWriter(Schema schema, int id) {
            this.writer = new GenericDatumWriter<>(schema);
            this.id = id;
        }

        @Override
        public byte[] serialize(String topic, GenericRecord r) {
            if (r == null) {
                return null;
            }
            out.reset();
            out.write(0);
            out.write(id >>> 24);
            out.write(id >>> 16);
            out.write(id >>> 8);
            out.write(id);
            encoder = EncoderFactory.get().binaryEncoder(out, encoder);
            try {
                writer.write(r, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new IllegalStateException("cannot encode a result", e);
            }
            return out.toByteArray();
        }
    }

    /* The aggregate state: count, sum of distance, sum of speed, max speed, latest ts. */
    static final class Agg {
        long count;
        double distance;
        double speedSum;
        double speedMax = Double.NEGATIVE_INFINITY;
        long lastTs = Long.MIN_VALUE;

        Agg add(GenericRecord r) {
            double speed = (Double) r.get("speed");
            long ts = (Long) r.get("ts");

            count++;
            distance += (Double) r.get("distance_km");
            speedSum += speed;
            speedMax = Math.max(speedMax, speed);
            lastTs = Math.max(lastTs, ts);
            return this;
        }
    }

    /* A fixed 40-byte encoding of Agg for the state stores and their changelogs. */
    static final class AggSerde implements Serde<Agg>, Serializer<Agg>, Deserializer<Agg> {
        @Override
        public byte[] serialize(String topic, Agg a) {
            if (a == null) {
                return null;
            }
            return ByteBuffer.allocate(40).putLong(a.count).putDouble(a.distance)
                .putDouble(a.speedSum).putDouble(a.speedMax).putLong(a.lastTs).array();
        }

        @Override
        public Agg deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            Agg a = new Agg();
            a.count = b.getLong();
            a.distance = b.getDouble();
            a.speedSum = b.getDouble();
            a.speedMax = b.getDouble();
            a.lastTs = b.getLong();
            return a;
        }

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
        }

        @Override
        public void close() {
        }

        @Override
        public Serializer<Agg> serializer() {
            return this;
        }

        @Override
        public Deserializer<Agg> deserializer() {
            return this;
        }
    }

    /* Event time from the record's ts field, as the bwm jobs declare it. */
    public static final class TsExtractor implements TimestampExtractor {
        @Override
        public long extract(org.apache.kafka.clients.consumer.ConsumerRecord<Object, Object> rec,
                            long partitionTime) {
            Object v = rec.value();
            return v instanceof GenericRecord ? (Long) ((GenericRecord) v).get("ts") : rec.timestamp();
        }
    }

    /* S1's projection, with the source offset as version (as bwm's results carry it). */
    static final class Project implements FixedKeyProcessor<String, GenericRecord, GenericRecord> {
        private final Schema schema;
        private FixedKeyProcessorContext<String, GenericRecord> ctx;

        Project(Schema schema) {
            this.schema = schema;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, GenericRecord> context) {
            ctx = context;
        }

        @Override
        public void process(FixedKeyRecord<String, GenericRecord> rec) {
            GenericRecord in = rec.value();
            GenericRecord out = new GenericData.Record(schema);
            out.put("vin", in.get("vin").toString());
            out.put("ts", in.get("ts"));
            out.put("speed", in.get("speed"));
            out.put("distance_km", in.get("distance_km"));
            out.put("odometer", in.get("odometer"));
            out.put("version", ctx.recordMetadata().map(m -> m.offset()).orElse(-1L));
            ctx.forward(rec.withValue(out));
        }
    }

    private static Schema recordSchema(String name, String fieldsJson) {
        return new Schema.Parser().parse("{\"type\": \"record\", \"name\": \"" + name
            + "\", \"namespace\": \"" + RESULT_NS + "\", \"fields\": [" + fieldsJson + "]}");
    }

    private static final String TS_MILLIS = "{\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}";
    private static final String AGG_FIELDS =
        "{\"name\": \"samples\", \"type\": [\"null\", \"long\"], \"default\": null},"
        + "{\"name\": \"distance_km\", \"type\": [\"null\", \"double\"], \"default\": null},"
        + "{\"name\": \"avg_speed\", \"type\": [\"null\", \"double\"], \"default\": null},"
        + "{\"name\": \"max_speed\", \"type\": [\"null\", \"double\"], \"default\": null},"
        + "{\"name\": \"version\", \"type\": \"long\"}";

    static Schema resultSchema(String scenario) {
        switch (scenario) {
            case "s1":
                return recordSchema("bench_s1", "{\"name\": \"vin\", \"type\": \"string\"},"
                    + "{\"name\": \"ts\", \"type\": " + TS_MILLIS + "},"
                    + "{\"name\": \"speed\", \"type\": \"double\"},"
                    + "{\"name\": \"distance_km\", \"type\": \"double\"},"
                    + "{\"name\": \"odometer\", \"type\": \"long\"},"
                    + "{\"name\": \"version\", \"type\": \"long\"}");
            case "s2":
                return recordSchema("bench_s2", "{\"name\": \"vin\", \"type\": \"string\"}," + AGG_FIELDS);
            default:
                return recordSchema("bench_s4", "{\"name\": \"vin\", \"type\": \"string\"},"
                    + "{\"name\": \"window_start\", \"type\": " + TS_MILLIS + "},"
                    + "{\"name\": \"window_end\", \"type\": " + TS_MILLIS + "}," + AGG_FIELDS);
        }
    }

    static GenericRecord aggResult(Schema schema, String vin, Agg a) {
        GenericRecord r = new GenericData.Record(schema);
        r.put("vin", vin);
        r.put("samples", a.count);
        r.put("distance_km", a.distance);
        r.put("avg_speed", a.count > 0 ? a.speedSum / a.count : null);
        r.put("max_speed", a.count > 0 ? a.speedMax : null);
        /* An aggregator sees no source offset: the version is the latest event time. */
        r.put("version", a.lastTs);
        return r;
    }

    /* Registers schema under subject and returns its id (Confluent's REST API). */
    static int register(String registry, String subject, Schema schema) throws Exception {
        String text = schema.toString().replace("\\", "\\\\").replace("\"", "\\\"");
        HttpRequest req = HttpRequest.newBuilder(URI.create(registry + "/subjects/" + subject + "/versions"))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"schema\": \"" + text + "\"}"))
            .build();
        HttpResponse<String> resp = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*(\\d+)").matcher(resp.body());
        if (resp.statusCode() != 200 || !m.find()) {
            throw new IllegalStateException("registry: " + resp.statusCode() + " " + resp.body());
        }
        return Integer.parseInt(m.group(1));
    }

    /* Records in the input now: the sum over partitions of end minus beginning offsets. */
    static long inputRecords(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<byte[], byte[]> c =
                 new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic)) {
                tps.add(new TopicPartition(topic, pi.partition()));
            }
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            Map<TopicPartition, Long> begin = c.beginningOffsets(tps);
            long n = 0;
            for (TopicPartition tp : tps) {
                n += end.get(tp) - begin.get(tp);
            }
            return n;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 9) {
            System.err.println("usage: BenchStreams s1|s2|s4 BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR"
                + " SCHEMA REGISTRY COMMIT_MS");
            System.exit(2);
        }
        String scenario = args[0], bootstrap = args[1], input = args[2], output = args[3];
        long started = System.nanoTime();
        Schema telemetry = new Schema.Parser().parse(Files.readString(Path.of(args[6])));
        Schema result = resultSchema(scenario);
        int resultId = register(args[7], output + "-value", result);
        long expected = inputRecords(bootstrap, input);

        Serde<GenericRecord> in = Serdes.serdeFrom(new FramedWriter(telemetry, 0), new FramedReader(telemetry));
        Serde<GenericRecord> out = Serdes.serdeFrom(new FramedWriter(result, resultId), new FramedReader(result));
        AggSerde aggSerde = new AggSerde();
        AtomicLong seen = new AtomicLong();

        StreamsBuilder b = new StreamsBuilder();
        KStream<String, GenericRecord> src = b.stream(input, Consumed.with(Serdes.String(), in)
            .withTimestampExtractor(new TsExtractor()));
        src = src.peek((k, v) -> seen.incrementAndGet());
        switch (scenario) {
            case "s1":
                src.filter((k, v) -> (Boolean) v.get("ignition") && (Double) v.get("speed") >= 0)
                    .processValues(() -> new Project(result))
                    .to(output, Produced.with(Serdes.String(), out));
                break;
            case "s2":
                src.groupByKey(Grouped.with(Serdes.String(), in))
                    .aggregate(Agg::new, (k, v, a) -> a.add(v),
                        Materialized.<String, Agg, KeyValueStore<Bytes, byte[]>>as("s2-state")
                            .withKeySerde(Serdes.String()).withValueSerde(aggSerde))
                    .toStream()
                    .map((k, a) -> KeyValue.pair(k, aggResult(result, k, a)))
                    .to(output, Produced.with(Serdes.String(), out));
                break;
            case "s4":
                src.groupByKey(Grouped.with(Serdes.String(), in))
                    .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(60), Duration.ofSeconds(5)))
                    .aggregate(Agg::new, (k, v, a) -> a.add(v),
                        Materialized.<String, Agg, WindowStore<Bytes, byte[]>>as("s4-state")
                            .withKeySerde(Serdes.String()).withValueSerde(aggSerde))
                    .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                    .toStream()
                    .map((wk, a) -> {
                        GenericRecord r = aggResult(result, wk.key(), a);
                        r.put("window_start", wk.window().start());
                        r.put("window_end", wk.window().end());
                        return KeyValue.pair(wk.key() + "@" + wk.window().start(), r);
                    })
                    .to(output, Produced.with(Serdes.String(), out));
                break;
            default:
                System.err.println("unknown scenario " + scenario);
                System.exit(2);
        }

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[4]);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.STATE_DIR_CONFIG, args[5]);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(args[8]));
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        KafkaStreams streams = new KafkaStreams(b.build(), p);
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        while (seen.get() < expected) {
            KafkaStreams.State st = streams.state();
            if (st == KafkaStreams.State.ERROR || st == KafkaStreams.State.NOT_RUNNING
                || st == KafkaStreams.State.PENDING_ERROR) {
                System.err.println("kafka streams stopped in state " + st);
                System.exit(1);
            }
            Thread.sleep(50);
        }
        /* Closing flushes the caches and the producer and commits. */
        streams.close(Duration.ofMinutes(5));
        double secs = (System.nanoTime() - started) / 1e9;
        System.out.printf("{\"records\": %d, \"expected\": %d, \"seconds\": %.3f}%n", seen.get(), expected, secs);
    }
}
