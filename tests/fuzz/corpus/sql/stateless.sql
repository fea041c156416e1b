-- a filter and projection
CREATE STREAM fast WITH (topic = 'fast', partitions = 6, replicas = -1, compact = FALSE) AS
  SELECT vin, speed * 3.6 AS kmh, "Odd ""Name""".a.b FROM telemetry
  WHERE speed BETWEEN 30 AND 300 AND state NOT IN ('A', 'B') /* comment */;
