-- Dispatchscope warehouse for Presto: the Hive-partitioned Parquet under file:///srv/dispatchscope/warehouse
-- as hive.dispatch. Safe to run again. Partitions written later become visible after the
-- sync_partition_metadata CALLs run again (the presto backend's refresh() runs them).

CREATE SCHEMA IF NOT EXISTS hive.dispatch;

CREATE TABLE IF NOT EXISTS hive.dispatch.job_events (
    event_id varchar,
    type varchar,
    job varchar,
    ts bigint,
    entity varchar,
    round varchar,
    waybill varchar,
    reason varchar,
    kind varchar,
    zone varchar,
    pickup_lat double,
    pickup_lon double,
    dropoff_lat double,
    dropoff_lon double,
    promised_ts bigint,
    ready_ts bigint,
    attrs varchar,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/job_events',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'job_events', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.rounds (
    round varchar,
    ts bigint,
    strategy varchar,
    strategy_version varchar,
    latency_ms double,
    n_jobs integer,
    n_candidates integer,
    n_assignments integer,
    n_postponed integer,
    n_excluded integer,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/rounds',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'rounds', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.candidates (
    round varchar,
    ts bigint,
    job varchar,
    entity varchar,
    score double,
    eta_s double,
    distance_m double,
    assigned boolean,
    features varchar,
    pos_ts bigint,
    pos_lat double,
    pos_lon double,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/candidates',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'candidates', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.entity_states (
    event_id varchar,
    entity varchar,
    ts bigint,
    state varchar,
    capacity integer,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/entity_states',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'entity_states', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.experiment_assignments (
    event_id varchar,
    experiment varchar,
    unit varchar,
    variant varchar,
    ts bigint,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/experiment_assignments',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'experiment_assignments', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.gps_anomalies (
    entity varchar,
    ts bigint,
    kind varchar,
    step_m double,
    speed_mps double,
    lat double,
    lon double,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/gps_anomalies',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'gps_anomalies', 'FULL');

CREATE TABLE IF NOT EXISTS hive.dispatch.gps (
    entity varchar,
    ts bigint,
    lat double,
    lon double,
    speed_mps double,
    heading_deg double,
    accuracy_m double,
    dataset varchar,
    dt varchar,
    city varchar
)
WITH (
    external_location = 'file:///srv/dispatchscope/warehouse/gps',
    format = 'PARQUET',
    partitioned_by = ARRAY['dataset', 'dt', 'city']
);

CALL hive.system.sync_partition_metadata('dispatch', 'gps', 'FULL');

CREATE OR REPLACE VIEW hive.dispatch.jobs AS
WITH per_job AS (
  SELECT
    dataset,
    job,
    COALESCE(MIN(city) FILTER(WHERE
      type = 'job_created'), MIN(city)) AS city,
    MIN(zone) FILTER(WHERE
      type = 'job_created') AS zone,
    MIN(kind) FILTER(WHERE
      type = 'job_created') AS kind,
    MIN(ts) FILTER(WHERE
      type = 'job_created') AS created_ts,
    MIN(ready_ts) FILTER(WHERE
      type = 'job_created') AS ready_ts,
    MIN(promised_ts) FILTER(WHERE
      type = 'job_created') AS promised_ts,
    MIN(ts) FILTER(WHERE
      type = 'job_assigned') AS assigned_ts,
    MAX(ts) FILTER(WHERE
      type = 'job_accepted') AS accepted_ts,
    MAX(ts) FILTER(WHERE
      type = 'job_picked_up') AS picked_up_ts,
    MAX(ts) FILTER(WHERE
      type = 'job_delivered') AS delivered_ts,
    MAX(ts) FILTER(WHERE
      type = 'job_cancelled') AS cancelled_ts,
    MAX_BY(entity, ts) FILTER(WHERE
      type = 'job_delivered' AND NOT entity IS NULL) AS delivered_entity,
    MAX_BY(entity, ts) FILTER(WHERE
      type IN ('job_assigned', 'job_accepted') AND NOT entity IS NULL) AS dispatched_entity,
    COUNT(DISTINCT waybill) AS distinct_waybills,
    COUNT(*) FILTER(WHERE
      type = 'job_assigned') AS assignments,
    COUNT(*) FILTER(WHERE
      type = 'job_rejected') AS rejections,
    MIN(pickup_lat) FILTER(WHERE
      type = 'job_created') AS pickup_lat,
    MIN(pickup_lon) FILTER(WHERE
      type = 'job_created') AS pickup_lon,
    MIN(dropoff_lat) FILTER(WHERE
      type = 'job_created') AS dropoff_lat,
    MIN(dropoff_lon) FILTER(WHERE
      type = 'job_created') AS dropoff_lon
  FROM hive.dispatch.job_events
  GROUP BY
    dataset,
    job
)
SELECT
  dataset,
  city,
  zone,
  kind,
  job,
  created_ts,
  ready_ts,
  promised_ts,
  assigned_ts,
  accepted_ts,
  picked_up_ts,
  delivered_ts,
  cancelled_ts,
  COALESCE(delivered_entity, dispatched_entity) AS entity,
  CASE
    WHEN assignments > 0 AND distinct_waybills = 0
    THEN 1
    ELSE distinct_waybills
  END AS waybills,
  rejections,
  pickup_lat,
  pickup_lon,
  dropoff_lat,
  dropoff_lon,
  CAST(2 * 6371008.8 AS DOUBLE) * ASIN(
    SQRT(
      POWER(SIN(RADIANS(dropoff_lat - pickup_lat) / 2), 2) + COS(RADIANS(pickup_lat)) * COS(RADIANS(dropoff_lat)) * POWER(SIN(RADIANS(dropoff_lon - pickup_lon) / 2), 2)
    )
  ) AS distance_m,
  CAST(delivered_ts - created_ts AS DOUBLE) / 1000 AS delivery_s,
  delivered_ts > promised_ts AS late
FROM per_job;
