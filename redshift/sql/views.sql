-- The four analyses as late-binding views (full date range, no order, no limit), so BI tools
-- and SQL clients query them by name. `energy-lake redshift setup` creates them in the views
-- schema, qualifying the curated tables with the external schema. A test keeps each view equal
-- to its analysis file minus the date range, ORDER BY and LIMIT.

CREATE OR REPLACE VIEW energy_by_type AS
  WITH sales AS (
    SELECT
      t.energy_type,
      t.quantity_kwh,
      t.total_amount
    FROM transactions AS t
    WHERE t.transaction_type = 'sale'
  )
  SELECT
    s.energy_type,
    COUNT(*) AS transactions,
    SUM(s.quantity_kwh) AS total_kwh,
    SUM(s.total_amount) AS revenue,
    CAST(SUM(s.total_amount) AS DOUBLE PRECISION) / CAST(SUM(s.quantity_kwh) AS DOUBLE PRECISION)
      AS avg_price_per_kwh
  FROM sales AS s
  GROUP BY s.energy_type
WITH NO SCHEMA BINDING;

CREATE OR REPLACE VIEW top_clients AS
  WITH sales AS (
    SELECT
      t.entity_id,
      t.quantity_kwh,
      t.total_amount
    FROM transactions AS t
    WHERE t.transaction_type = 'sale'
  )
  SELECT
    c.client_id,
    c.client_name,
    c.client_type,
    COUNT(*) AS transactions,
    SUM(s.quantity_kwh) AS total_kwh,
    SUM(s.total_amount) AS revenue
  FROM sales AS s
  INNER JOIN clients AS c
    ON c.client_id = s.entity_id
  GROUP BY c.client_id, c.client_name, c.client_type
WITH NO SCHEMA BINDING;

CREATE OR REPLACE VIEW provider_performance AS
  WITH purchases AS (
    SELECT
      t.entity_id,
      t.quantity_kwh,
      t.total_amount
    FROM transactions AS t
    WHERE t.transaction_type = 'purchase'
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
WITH NO SCHEMA BINDING;

CREATE OR REPLACE VIEW monthly_price_trend AS
  WITH sales AS (
    SELECT
      CAST(DATE_TRUNC('month', t.transaction_date) AS DATE) AS sale_month,
      t.energy_type,
      t.quantity_kwh,
      t.price_per_kwh
    FROM transactions AS t
    WHERE t.transaction_type = 'sale'
  )
  SELECT
    s.sale_month AS month,
    s.energy_type,
    COUNT(*) AS transactions,
    SUM(s.quantity_kwh) AS total_kwh,
    MIN(s.price_per_kwh) AS min_price_per_kwh,
    MAX(s.price_per_kwh) AS max_price_per_kwh,
    CAST(SUM(s.price_per_kwh * s.quantity_kwh) AS DOUBLE PRECISION)
      / CAST(SUM(s.quantity_kwh) AS DOUBLE PRECISION) AS avg_price_per_kwh
  FROM sales AS s
  GROUP BY s.sale_month, s.energy_type
WITH NO SCHEMA BINDING;
