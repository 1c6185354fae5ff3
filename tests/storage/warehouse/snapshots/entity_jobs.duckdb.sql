SELECT
  dataset,
  job,
  MIN(city) AS city,
  MIN(ts) AS first_ts,
  MAX(ts) AS last_ts,
  COUNT_IF(type = 'job_assigned') > 0 AS assigned,
  COUNT_IF(type = 'job_accepted') > 0 AS accepted,
  COUNT_IF(type = 'job_delivered') > 0 AS delivered
FROM job_events
WHERE
  dataset = ?
  AND entity = ?
  AND type IN ('job_assigned', 'job_accepted', 'job_delivered')
GROUP BY
  dataset,
  job
ORDER BY
  first_ts,
  job
