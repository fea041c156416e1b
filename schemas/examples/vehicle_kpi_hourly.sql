-- Hourly driving figures per vehicle, from the sample telemetry
-- (schemas/telemetry.avsc). Results go to vehicle.kpi.hourly, one per vehicle
-- and hour, updated as readings arrive (EMIT CHANGES); the latest version of
-- each (vin, window_start) is the current figure.

CREATE STREAM telemetry WITH (topic = 'vehicle.telemetry', format = 'avro', timestamp = 'ts',
                              schema = '../telemetry.avsc');

CREATE TABLE vehicle_kpi_hourly WITH (topic = 'vehicle.kpi.hourly') AS
SELECT vin,
       COUNT(*)                AS samples,
       SUM(distance_km)        AS distance_km,
       AVG(speed)              AS avg_speed,
       MAX(speed)              AS max_speed,
       STDDEV(speed)           AS speed_stddev,
       COUNT_DISTINCT(trip_id) AS trips,
       PERCENTILE(speed, 0.95) AS p95_speed
FROM telemetry
WHERE ignition = true AND speed >= 0
WINDOW TUMBLING (SIZE 1 HOUR, GRACE 5 MINUTES)
GROUP BY vin
EMIT CHANGES;
