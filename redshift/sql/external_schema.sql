-- The Spectrum schema over the curated Glue database. Run by the deploy (custom resource) and by
-- `energy-lake redshift setup`; idempotent. Placeholders are filled with validated names only.
CREATE EXTERNAL SCHEMA IF NOT EXISTS {schema}
FROM DATA CATALOG
DATABASE '{catalog_database}'
IAM_ROLE '{iam_role}';
