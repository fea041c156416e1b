-- S4, tumbling window: per vehicle and minute, one final result once the
-- window closes (EMIT FINAL, 5 s grace).
CREATE STREAM telemetry WITH (topic = 'bench.telemetry', format = 'avro', timestamp = 'ts',
                              schema = '../../../schemas/telemetry.avsc');

CREATE TABLE bench_s4 WITH (topic = 'bench.s4') AS
SELECT vin,
       COUNT(*)         AS samples,
       SUM(distance_km) AS distance_km,
       AVG(speed)       AS avg_speed,
       MAX(speed)       AS max_speed
FROM telemetry
WINDOW TUMBLING (SIZE 60 SECONDS, GRACE 5 SECONDS)
GROUP BY vin
EMIT FINAL;
