"""Redshift: the Spectrum schema, the warehouse's SQL and a Data API helper.

`queries` transpiles the analyses of `athena/sql` (written once) to Redshift and renders the
Spectrum DDL of `redshift/sql`; `data_api` runs them through the Redshift Data API into typed
DataFrames; `cli` is `energy-lake redshift ...`. `custom_resource` is the deploy-time Lambda that
creates the external schema (a plain asset folder, boto3 only).
"""
