-- Monthly price trend: sales by UTC calendar month and energy type.
-- Output: month (first day of the month), energy_type, transactions, total_kwh,
-- min_price_per_kwh, max_price_per_kwh, avg_price_per_kwh (volume-weighted:
-- sum(price_per_kwh * quantity_kwh) / sum(quantity_kwh)); ordered by month, energy_type.
WITH sales AS (
  SELECT
    date_trunc('month', t.transaction_date) AS sale_month,
    t.energy_type,
    t.quantity_kwh,
    t.price_per_kwh
  FROM transactions AS t
  WHERE t.transaction_type = 'sale'
)
SELECT
  CAST(s.sale_month AS date) AS month,
  CAST(s.energy_type AS varchar) AS energy_type,
  CAST(count(*) AS bigint) AS transactions,
  CAST(sum(s.quantity_kwh) AS decimal(38, 3)) AS total_kwh,
  CAST(min(s.price_per_kwh) AS decimal(38, 6)) AS min_price_per_kwh,
  CAST(max(s.price_per_kwh) AS decimal(38, 6)) AS max_price_per_kwh,
  CAST(
    CAST(sum(s.price_per_kwh * s.quantity_kwh) AS double) / CAST(sum(s.quantity_kwh) AS double)
    AS double
  ) AS avg_price_per_kwh
FROM sales AS s
GROUP BY s.sale_month, s.energy_type
ORDER BY month, energy_type
