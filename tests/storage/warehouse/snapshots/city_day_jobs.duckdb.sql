SELECT
  *
FROM jobs
WHERE
  dataset = ?
  AND city = ?
  AND created_ts >= DATE_DIFF('DAY', CAST('1970-01-01' AS DATE), CAST(? AS DATE)) * 86400000
  AND created_ts < (
    DATE_DIFF('DAY', CAST('1970-01-01' AS DATE), CAST(? AS DATE)) + 1
  ) * 86400000
ORDER BY
  created_ts,
  job
