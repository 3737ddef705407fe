#!/usr/bin/env bash
# Entry point of nightshift/postgres (deploy/postgres/Dockerfile): the subset of the official
# postgres image's docker-entrypoint.sh that docker-compose.yml relies on.
#   - first start (empty $PGDATA): initdb with scram-sha-256, the superuser $POSTGRES_USER
#     (default postgres) with $POSTGRES_PASSWORD (required), the database $POSTGRES_DB (default: the
#     user's name), then /docker-entrypoint-initdb.d/*.sh (sourced with this environment) and *.sql
#     (psql), on a server listening on the Unix socket only;
#   - every start: exec postgres as the postgres user, listening on all addresses.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec gosu postgres "$0" "$@"
fi

[ "${1:-postgres}" = postgres ] || exec "$@"
shift || true

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (password of the superuser)}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
         --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start >/dev/null
  export PGUSER="$POSTGRES_USER" PGHOST=/var/run/postgresql
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -d postgres -q -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "[postgres] running $f"; . "$f" ;;
      *.sql) echo "[postgres] running $f"; psql -v ON_ERROR_STOP=1 -d "$POSTGRES_DB" -q -f "$f" ;;
      *) ;;
    esac
  done
  unset PGUSER PGHOST
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "[postgres] initialised $PGDATA"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
