-- Provider performance: purchases joined (inner) to the current providers snapshot.
-- Output: provider_id, provider_name, energy_type (the provider's), transactions, total_kwh,
-- cost, avg_price_per_kwh (= cost / total_kwh); ordered by total_kwh desc, ties by provider_id.
WITH purchases AS (
  SELECT
    t.entity_id,
    t.quantity_kwh,
    t.total_amount
  FROM transactions AS t
  WHERE t.transaction_type = 'purchase'
    AND t.year >= CAST(:start_year AS INTEGER)
    AND t.year * 10000 + t.month * 100 + t.day >= CAST(:start_day AS INTEGER)
    AND t.transaction_date >= CAST(:start_time AS TIMESTAMP)
    AND t.year <= CAST(:end_year AS INTEGER)
    AND t.year * 10000 + t.month * 100 + t.day <= CAST(:end_day AS INTEGER)
    AND t.transaction_date < CAST(:end_time AS TIMESTAMP)
)
SELECT
  p.provider_id,
  p.provider_name,
  p.energy_type,
  COUNT(*) AS transactions,
  SUM(b.quantity_kwh) AS total_kwh,
  SUM(b.total_amount) AS cost,
  CAST(SUM(b.total_amount) AS DOUBLE PRECISION) / CAST(SUM(b.quantity_kwh) AS DOUBLE PRECISION)
    AS avg_price_per_kwh
FROM purchases AS b
INNER JOIN providers AS p
  ON p.provider_id = b.entity_id
GROUP BY p.provider_id, p.provider_name, p.energy_type
ORDER BY total_kwh DESC, provider_id
