-- S2, keyed aggregate: running figures per vehicle, no window, a result per
-- touched vehicle and batch (EMIT CHANGES).
CREATE STREAM telemetry WITH (topic = 'bench.telemetry', format = 'avro', timestamp = 'ts',
                              schema = '../../../schemas/telemetry.avsc');

CREATE TABLE bench_s2 WITH (topic = 'bench.s2') AS
SELECT vin,
       COUNT(*)         AS samples,
       SUM(distance_km) AS distance_km,
       AVG(speed)       AS avg_speed,
       MAX(speed)       AS max_speed
FROM telemetry
GROUP BY vin
EMIT CHANGES;
