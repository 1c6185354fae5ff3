SELECT
  dataset,
  city,
  dt,
  event_id,
  type,
  job,
  ts,
  entity,
  round,
  waybill,
  reason,
  kind,
  zone,
  pickup_lat,
  pickup_lon,
  dropoff_lat,
  dropoff_lon,
  promised_ts,
  ready_ts,
  attrs
FROM job_events
WHERE
  dataset = ? AND job = ?
ORDER BY
  ts,
  CASE type
    WHEN 'job_created'
    THEN 0
    WHEN 'job_assigned'
    THEN 1
    WHEN 'job_accepted'
    THEN 2
    WHEN 'job_rejected'
    THEN 3
    WHEN 'job_arrived_pickup'
    THEN 4
    WHEN 'job_picked_up'
    THEN 5
    WHEN 'job_delivered'
    THEN 6
    WHEN 'job_cancelled'
    THEN 7
    ELSE 8
  END,
  event_id
