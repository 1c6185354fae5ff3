SELECT
  *
FROM jobs
WHERE
  dataset = ? AND job = ?
