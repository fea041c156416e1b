-- S1, stateless: readings with the ignition on, projected to five fields.
CREATE STREAM telemetry WITH (topic = 'bench.telemetry', format = 'avro', timestamp = 'ts',
                              schema = '../../../schemas/telemetry.avsc');

CREATE STREAM bench_s1 WITH (topic = 'bench.s1') AS
SELECT vin, ts, speed, distance_km, odometer
FROM telemetry
WHERE ignition = true AND speed >= 0;
