#!/usr/bin/env bash
# Entry point of nightshift/temporal (deploy/temporal/Dockerfile), after the official
# temporalio/auto-setup image's auto-setup.sh + entrypoint.sh, PostgreSQL only:
#   1. wait for PostgreSQL, create the databases $DBNAME and $VISIBILITY_DBNAME when missing and
#      bring both schemas to the server's version (temporal-sql-tool; the schemas are embedded in
#      the tool: --schema-name postgresql/v12/...). Idempotent: a restart only checks versions;
#   2. start the server (config/docker.yaml, rendered by the server from the environment);
#   3. create the namespace $DEFAULT_NAMESPACE (retention $DEFAULT_NAMESPACE_RETENTION) once the
#      frontend answers, in the background.
# SKIP_SCHEMA_SETUP=true skips 1, SKIP_DEFAULT_NAMESPACE_CREATION=true skips 3 (as the official image).
set -euo pipefail

: "${DB:=postgres12}"
case "$DB" in postgres12|postgres12_pgx) ;; *) echo "[auto-setup] DB=$DB is not supported by this image (postgres12, postgres12_pgx)" >&2; exit 2 ;; esac
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must name the PostgreSQL host}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PWD:?POSTGRES_PWD must be set}"
: "${DB_PORT:=5432}" "${DBNAME:=temporal}" "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${DEFAULT_NAMESPACE:=default}" "${DEFAULT_NAMESPACE_RETENTION:=72h}"
: "${BIND_ON_IP:=$(hostname -i | awk '{print $1}')}"
export DB DB_PORT DBNAME VISIBILITY_DBNAME BIND_ON_IP
# Bound on every address: the other members must be told which one to use.
if [ "$BIND_ON_IP" = 0.0.0.0 ] || [ "$BIND_ON_IP" = "::0" ]; then
  export TEMPORAL_BROADCAST_ADDRESS="${TEMPORAL_BROADCAST_ADDRESS:-$(hostname -i | awk '{print $1}')}"
  FRONTEND=127.0.0.1:7233
else
  FRONTEND="$BIND_ON_IP:7233"
fi

sql() { SQL_PASSWORD="$POSTGRES_PWD" temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"; }

setup_schema() {
  local waited=0
  until sql --db "$DBNAME" create-database >/dev/null 2>&1; do
    [ "$waited" -lt 120 ] || { echo "[auto-setup] PostgreSQL at $POSTGRES_SEEDS:$DB_PORT not reachable after 120s" >&2; sql --db "$DBNAME" create-database; exit 1; }
    sleep 1; waited=$((waited + 1))
  done
  sql --db "$DBNAME" setup-schema -v 0.0
  sql --db "$DBNAME" update-schema --schema-name postgresql/v12/temporal
  sql --db "$VISIBILITY_DBNAME" create-database
  sql --db "$VISIBILITY_DBNAME" setup-schema -v 0.0
  sql --db "$VISIBILITY_DBNAME" update-schema --schema-name postgresql/v12/visibility
}

create_namespace() {
  until temporal operator cluster health --address "$FRONTEND" >/dev/null 2>&1; do sleep 1; done
  if ! temporal operator namespace describe -n "$DEFAULT_NAMESPACE" --address "$FRONTEND" >/dev/null 2>&1; then
    temporal operator namespace create -n "$DEFAULT_NAMESPACE" --retention "$DEFAULT_NAMESPACE_RETENTION" --address "$FRONTEND" \
      && echo "[auto-setup] namespace $DEFAULT_NAMESPACE created"
  fi
}

[ "${SKIP_SCHEMA_SETUP:-false}" = true ] || setup_schema
[ "${SKIP_DEFAULT_NAMESPACE_CREATION:-false}" = true ] || create_namespace &
exec temporal-server --root /etc/temporal --env docker start
