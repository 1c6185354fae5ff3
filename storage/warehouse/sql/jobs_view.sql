-- The jobs view: one row per (dataset, job), derived from job_events on every read so it never goes stale.
-- Parameters: none. Written in the Presto dialect; the DuckDB text is transpiled from it by sqlglot.
WITH per_job AS (
    SELECT
        dataset,
        job,
        coalesce(min(city) FILTER (WHERE type = 'job_created'), min(city)) AS city,
        min(zone) FILTER (WHERE type = 'job_created') AS zone,
        min(kind) FILTER (WHERE type = 'job_created') AS kind,
        min(ts) FILTER (WHERE type = 'job_created') AS created_ts,
        min(ready_ts) FILTER (WHERE type = 'job_created') AS ready_ts,
        min(promised_ts) FILTER (WHERE type = 'job_created') AS promised_ts,
        min(ts) FILTER (WHERE type = 'job_assigned') AS assigned_ts,
        max(ts) FILTER (WHERE type = 'job_accepted') AS accepted_ts,
        max(ts) FILTER (WHERE type = 'job_picked_up') AS picked_up_ts,
        max(ts) FILTER (WHERE type = 'job_delivered') AS delivered_ts,
        max(ts) FILTER (WHERE type = 'job_cancelled') AS cancelled_ts,
        max_by(entity, ts) FILTER (WHERE type = 'job_delivered' AND entity IS NOT NULL) AS delivered_entity,
        max_by(entity, ts) FILTER (
            WHERE type IN ('job_assigned', 'job_accepted') AND entity IS NOT NULL
        ) AS dispatched_entity,
        count(DISTINCT waybill) AS distinct_waybills,
        count(*) FILTER (WHERE type = 'job_assigned') AS assignments,
        -- count(*) FILTER rather than count_if: DuckDB's count_if returns HUGEINT, Presto's BIGINT.
        count(*) FILTER (WHERE type = 'job_rejected') AS rejections,
        min(pickup_lat) FILTER (WHERE type = 'job_created') AS pickup_lat,
        min(pickup_lon) FILTER (WHERE type = 'job_created') AS pickup_lon,
        min(dropoff_lat) FILTER (WHERE type = 'job_created') AS dropoff_lat,
        min(dropoff_lon) FILTER (WHERE type = 'job_created') AS dropoff_lon
    FROM job_events
    GROUP BY dataset, job
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
    coalesce(delivered_entity, dispatched_entity) AS entity,
    -- An assignment logged without a waybill is still one attempt.
    CASE WHEN assignments > 0 AND distinct_waybills = 0 THEN 1 ELSE distinct_waybills END AS waybills,
    rejections,
    pickup_lat,
    pickup_lon,
    dropoff_lat,
    dropoff_lon,
    -- Haversine on a sphere of the mean Earth radius (6371008.8 m), in metres.
    CAST(2 * 6371008.8 AS DOUBLE) * asin(sqrt(
        power(sin(radians(dropoff_lat - pickup_lat) / 2), 2)
        + cos(radians(pickup_lat)) * cos(radians(dropoff_lat)) * power(sin(radians(dropoff_lon - pickup_lon) / 2), 2)
    )) AS distance_m,
    CAST(delivered_ts - created_ts AS DOUBLE) / 1000 AS delivery_s,
    delivered_ts > promised_ts AS late
FROM per_job
