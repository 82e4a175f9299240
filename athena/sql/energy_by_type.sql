-- Energy sold by type: sales grouped by the energy type sold.
-- Output: energy_type, transactions, total_kwh, revenue, avg_price_per_kwh (= revenue / total_kwh).
-- Orphan sales (client unknown) are counted: no join here.
WITH sales AS (
  SELECT
    t.energy_type,
    t.quantity_kwh,
    t.total_amount
  FROM transactions AS t
  WHERE t.transaction_type = 'sale'
)
SELECT
  CAST(s.energy_type AS varchar) AS energy_type,
  CAST(count(*) AS bigint) AS transactions,
  CAST(sum(s.quantity_kwh) AS decimal(38, 3)) AS total_kwh,
  CAST(sum(s.total_amount) AS decimal(38, 4)) AS revenue,
  CAST(CAST(sum(s.total_amount) AS double) / CAST(sum(s.quantity_kwh) AS double) AS double)
    AS avg_price_per_kwh
FROM sales AS s
GROUP BY s.energy_type
ORDER BY total_kwh DESC, energy_type
