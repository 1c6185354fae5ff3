-- The incident finder: the worst few of each kind in every dataset, from the facts alone (no manifests):
-- orders late against their promise, orders declined and re-dispatched, GPS jumps, and rounds that
-- dispatched on a stale fix (the position the dispatcher used was over 30 s old).
-- Columns: kind, dataset, ts (when it happened), job, entity, magnitude (seconds late, declines, metres,
-- seconds of age), rank (1 = worst in its dataset and kind). Parameters: none.
WITH late AS (
    SELECT
        'late' AS kind, dataset, delivered_ts AS ts, job, entity,
        CAST(delivered_ts - promised_ts AS DOUBLE) / 1000 AS magnitude
    FROM jobs
    WHERE delivered_ts > promised_ts
),
redispatched AS (
    SELECT
        'redispatched' AS kind, dataset, created_ts AS ts, job, entity, CAST(rejections AS DOUBLE) AS magnitude
    FROM jobs
    WHERE rejections > 0
),
jumps AS (
    SELECT
        'gps_jump' AS kind, dataset, ts, CAST(NULL AS VARCHAR) AS job, entity, step_m AS magnitude
    FROM gps_anomalies
    WHERE kind = 'jump'
),
stale AS (
    SELECT
        'stale_fix' AS kind, dataset, ts, job, entity, CAST(ts - pos_ts AS DOUBLE) / 1000 AS magnitude
    FROM candidates
    WHERE pos_ts IS NOT NULL AND ts - pos_ts > 30000
),
everything AS (
    SELECT * FROM late
    UNION ALL
    SELECT * FROM redispatched
    UNION ALL
    SELECT * FROM jumps
    UNION ALL
    SELECT * FROM stale
),
ranked AS (
    SELECT
        kind, dataset, ts, job, entity, magnitude,
        row_number() OVER (PARTITION BY kind, dataset ORDER BY magnitude DESC, ts, job, entity) AS rank
    FROM everything
)
SELECT kind, dataset, ts, job, entity, magnitude, rank
FROM ranked
WHERE rank <= 5
ORDER BY rank, dataset, kind, ts
