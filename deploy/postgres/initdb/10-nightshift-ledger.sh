#!/usr/bin/env bash
# Run once by the postgres entry point (official image or nightshift/postgres) on an empty data
# directory: the run ledger's own database and role (docker-compose.yml: ledger.url
# postgres://nightshift@<host>:5432/nightshift, the worker's PGPASSWORD). Temporal's databases
# (temporal, temporal_visibility) are created by the temporal service's schema set-up.
set -euo pipefail
: "${NIGHTSHIFT_LEDGER_PASSWORD:?NIGHTSHIFT_LEDGER_PASSWORD must be set (password of the ledger role)}"
psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" -d postgres \
     -v pw="$NIGHTSHIFT_LEDGER_PASSWORD" <<'SQL'
CREATE ROLE nightshift LOGIN PASSWORD :'pw';
CREATE DATABASE nightshift OWNER nightshift;
SQL
