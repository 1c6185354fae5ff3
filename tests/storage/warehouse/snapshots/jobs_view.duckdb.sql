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
    ARG_MAX(entity, ts) FILTER(WHERE
      type = 'job_delivered' AND NOT entity IS NULL) AS delivered_entity,
    ARG_MAX(entity, ts) FILTER(WHERE
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
  FROM job_events
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
FROM per_job
