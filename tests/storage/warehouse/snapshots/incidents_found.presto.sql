WITH late AS (
  SELECT
    'late' AS kind,
    dataset,
    delivered_ts AS ts,
    job,
    entity,
    CAST(delivered_ts - promised_ts AS DOUBLE) / 1000 AS magnitude
  FROM jobs
  WHERE
    delivered_ts > promised_ts
), redispatched AS (
  SELECT
    'redispatched' AS kind,
    dataset,
    created_ts AS ts,
    job,
    entity,
    CAST(rejections AS DOUBLE) AS magnitude
  FROM jobs
  WHERE
    rejections > 0
), jumps AS (
  SELECT
    'gps_jump' AS kind,
    dataset,
    ts,
    CAST(NULL AS VARCHAR) AS job,
    entity,
    step_m AS magnitude
  FROM gps_anomalies
  WHERE
    kind = 'jump'
), stale AS (
  SELECT
    'stale_fix' AS kind,
    dataset,
    ts,
    job,
    entity,
    CAST(ts - pos_ts AS DOUBLE) / 1000 AS magnitude
  FROM candidates
  WHERE
    NOT pos_ts IS NULL AND ts - pos_ts > 30000
), everything AS (
  SELECT
    *
  FROM late
  UNION ALL
  SELECT
    *
  FROM redispatched
  UNION ALL
  SELECT
    *
  FROM jumps
  UNION ALL
  SELECT
    *
  FROM stale
), ranked AS (
  SELECT
    kind,
    dataset,
    ts,
    job,
    entity,
    magnitude,
    ROW_NUMBER() OVER (PARTITION BY kind, dataset ORDER BY magnitude DESC, ts, job, entity) AS rank
  FROM everything
)
SELECT
  kind,
  dataset,
  ts,
  job,
  entity,
  magnitude,
  rank
FROM ranked
WHERE
  rank <= 5
ORDER BY
  rank,
  dataset,
  kind,
  ts
