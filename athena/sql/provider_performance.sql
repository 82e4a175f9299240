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
)
SELECT
  CAST(p.provider_id AS varchar) AS provider_id,
  CAST(p.provider_name AS varchar) AS provider_name,
  CAST(p.energy_type AS varchar) AS energy_type,
  CAST(count(*) AS bigint) AS transactions,
  CAST(sum(b.quantity_kwh) AS decimal(38, 3)) AS total_kwh,
  CAST(sum(b.total_amount) AS decimal(38, 4)) AS cost,
  CAST(CAST(sum(b.total_amount) AS double) / CAST(sum(b.quantity_kwh) AS double) AS double)
    AS avg_price_per_kwh
FROM purchases AS b
INNER JOIN providers AS p
  ON p.provider_id = b.entity_id
GROUP BY p.provider_id, p.provider_name, p.energy_type
ORDER BY total_kwh DESC, provider_id
