SELECT
  dataset,
  job,
  MIN(ts) AS created_ts,
  MAX(ts) AS last_ts,
  COUNT(*) AS events
FROM job_events
WHERE
  job IN (?, ?, ?, ?, ?, ?, ?, ?)
GROUP BY
  dataset,
  job
ORDER BY
  dataset,
  job
