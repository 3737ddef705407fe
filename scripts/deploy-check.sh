#!/usr/bin/env bash
# Proves that docker-compose.yml starts here: builds the images from local bases when needed
# (deploy/build-images.sh, idempotent), starts the whole deployment as its own compose project on
# random ports, and checks, failing at the first check that does not hold:
#   1. postgresql   healthy; the run ledger's database answers as the nightshift role and holds the
#                   ledger's tables (the worker migrated it: ledger.url points at this PostgreSQL)
#   2. temporal     healthy; `temporal operator cluster health` says SERVING; its persistence is this
#                   PostgreSQL (the namespace `default` is a row of temporal.namespaces)
#   3. temporal-ui  healthy; GET / is the UI and GET /api/v1/namespaces (proxied to Temporal) lists
#                   `default`
#   4. worker       healthy; `temporal task-queue describe` lists a poller of this host on the
#                   deployment's task queue; the run search attributes are registered
#   5. webhooks     healthy; GET /healthz answers ok
# Teardown (always, also on failure or a signal): `compose down -v` of this project (its containers,
# network and volume), the sandbox networks its worker created and that worker's iptables jump rule,
# the temporary directory. Nothing else is touched. Images are kept (built once, reused).
#
# Needs: Docker, a compose implementation (`docker compose`, else `docker-compose`: Debian's
# apt package docker-compose 1.29), root (the worker's sandbox firewall), the Temporal CLI
# (scripts/setup.sh), psql and curl, `npm ci && npm run build` done.
# Environment: DEPLOY_CHECK_TIMEOUT (seconds to wait for all services healthy, default 420),
#   DEPLOY_CHECK_KEEP=1 (leave the deployment running for a look; prints how to remove it).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
TIMEOUT="${DEPLOY_CHECK_TIMEOUT:-420}"
[ -d /usr/local/go/bin ] && PATH="$PATH:/usr/local/go/bin"
[ -d "$HOME/go/bin" ] && PATH="$PATH:$HOME/go/bin"

log() { echo "[deploy-check] $*"; }
die() { echo "[deploy-check] FAILED: $*" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose)
else die "no compose implementation: install Docker's compose plugin or Debian's docker-compose (apt-get install docker-compose)"
fi
for c in temporal psql curl; do command -v "$c" >/dev/null 2>&1 || die "$c is not installed"; done

bash deploy/build-images.sh
set -a; . deploy/local-images.env; set +a

# A free TCP port on 127.0.0.1 (the kernel's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

ID="$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PROJECT="nsdeploy$ID"
WORK="$(mktemp -d "/tmp/nightshift-deploy-check.XXXXXX")"
TASK_QUEUE="nightshift-deploy-$ID"
SBX_NET="nsdeploy-$ID-sbx"
SETUP_NET="nsdeploy-$ID-setup"
# /24s in 10.<a>.<b>.0 unlikely to be taken (docker refuses an overlapping subnet; then rerun).
OCT=$((16#${ID:0:2} % 200 + 20)); OCT2=$((16#${ID:2:2}))
export POSTGRES_PORT TEMPORAL_PORT TEMPORAL_UI_PORT
POSTGRES_PORT="$(free_port)"; TEMPORAL_PORT="$(free_port)"; TEMPORAL_UI_PORT="$(free_port)"; HTTP_PORT="$(free_port)"
export POSTGRES_PASSWORD="pg-$(head -c12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export NIGHTSHIFT_LEDGER_PASSWORD="ledger-$(head -c12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export NIGHTSHIFT_STATE_DIR="$WORK/state" NIGHTSHIFT_CONFIG_FILE="$WORK/nightshift.config.yaml"
export NIGHTSHIFT_HOST_ID="deploy-check-$ID"
# The caller's service secrets stay out of this throw-away deployment.
unset GITHUB_TOKEN GITHUB_WEBHOOK_SECRET LINEAR_API_KEY LINEAR_WEBHOOK_SECRET SLACK_BOT_TOKEN SLACK_SIGNING_SECRET ANTHROPIC_API_KEY OPENAI_API_KEY TEMPORAL_API_KEY NIGHTSHIFT_DOCKER_HOST
mkdir -p "$NIGHTSHIFT_STATE_DIR"
cat >"$NIGHTSHIFT_CONFIG_FILE" <<YAML
stateDir: $NIGHTSHIFT_STATE_DIR
temporal: { address: "127.0.0.1:$TEMPORAL_PORT", namespace: default, taskQueue: $TASK_QUEUE }
ledger: { url: "postgres://nightshift@127.0.0.1:$POSTGRES_PORT/nightshift" }
http: { host: 127.0.0.1, port: $HTTP_PORT }
sandbox: { network: $SBX_NET, subnet: 10.$OCT.$OCT2.0/24 }
environments: { network: $SETUP_NET, subnet: 10.$((OCT + 1)).$OCT2.0/24 }
gateway: { prices: { claude-sonnet-4-5: { input: 3, output: 15 } } }
repos:
  demo: { url: "https://github.com/acme/demo.git", github: acme/demo, testCommand: "npm test", budget: { minutes: 5, tokens: 100000, usd: 1 } }
YAML
chmod -R a+rX "$WORK"

# An empty env file: never the operator's .env (real secrets) next to the compose file.
: > "$WORK/empty.env"
compose() { "${COMPOSE[@]}" --env-file "$WORK/empty.env" -p "$PROJECT" -f "$REPO_ROOT/docker-compose.yml" "$@"; }

teardown() {
  local rc=$? bridge net
  trap - EXIT INT TERM
  if [ "${DEPLOY_CHECK_KEEP:-0}" = 1 ]; then
    log "kept: project $PROJECT in $WORK (remove: ${COMPOSE[*]} -p $PROJECT down -v)"
    exit "$rc"
  fi
  [ "$rc" -eq 0 ] || { log "logs of the failed deployment:"; compose logs --no-color --tail 40 >&2 2>&1 || true; }
  compose down -v --remove-orphans --timeout 20 >/dev/null 2>&1 || log "WARNING: compose down failed"
  for net in "$SBX_NET" "$SETUP_NET"; do
    docker network inspect "$net" >/dev/null 2>&1 || continue
    bridge="$(docker network inspect -f '{{ index .Options "com.docker.network.bridge.name" }}' "$net" 2>/dev/null || true)"
    [ -n "$bridge" ] && [ "$bridge" != "<no value>" ] || bridge="br-$(docker network inspect -f '{{.Id}}' "$net" | cut -c1-12)"
    # Only this worker's jump rule (isolateHost); the shared chain stays for other workers.
    while iptables -w -C INPUT -i "$bridge" -j NIGHTSHIFT-SBX 2>/dev/null; do iptables -w -D INPUT -i "$bridge" -j NIGHTSHIFT-SBX; done
    docker network rm "$net" >/dev/null || log "WARNING: could not remove network $net"
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

log "project $PROJECT: postgresql :$POSTGRES_PORT, temporal :$TEMPORAL_PORT, ui :$TEMPORAL_UI_PORT, webhooks :$HTTP_PORT (${COMPOSE[*]})"
compose config -q || die "docker-compose.yml is not valid"
START=$SECONDS
compose up -d --no-build 2>&1 | sed 's/^/[compose] /'

# health <service>: the container's health status (starting, healthy, unhealthy) or its state.
health() {
  local id; id="$(compose ps -q "$1")"
  [ -n "$id" ] || { echo missing; return; }
  docker inspect -f '{{ if .State.Health }}{{ .State.Health.Status }}{{ else }}{{ .State.Status }}{{ end }}' "$id"
}
SERVICES=(postgresql temporal temporal-ui worker webhooks)
declare -A SEEN=()
while :; do
  pending=()
  for s in "${SERVICES[@]}"; do
    h="$(health "$s")"
    if [ "$h" = healthy ]; then
      [ -n "${SEEN[$s]:-}" ] || { SEEN[$s]=1; log "$s healthy after $((SECONDS - START))s"; }
    else
      pending+=("$s:$h")
    fi
  done
  [ ${#pending[@]} -gt 0 ] || break
  [ $((SECONDS - START)) -lt "$TIMEOUT" ] || die "not healthy within ${TIMEOUT}s: ${pending[*]}"
  sleep 3
done

# 1. PostgreSQL: the ledger, migrated by the worker, as its own role.
tables="$(PGPASSWORD="$NIGHTSHIFT_LEDGER_PASSWORD" psql -h 127.0.0.1 -p "$POSTGRES_PORT" -U nightshift -d nightshift -Atc \
  "select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'")" \
  || die "the ledger database does not answer as nightshift"
case ",$tables," in *,runs,*attempts*|*,attempts,*runs,*) log "ok postgresql: ledger tables $tables" ;; *) die "ledger tables missing (have: '$tables')" ;; esac

# 2. Temporal on this PostgreSQL.
out="$(temporal operator cluster health --address "127.0.0.1:$TEMPORAL_PORT")" || die "temporal operator cluster health failed: $out"
case "$out" in *SERVING*) ;; *) die "cluster health said: $out" ;; esac
ns="$(PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -p "$POSTGRES_PORT" -U temporal -d temporal -Atc "select count(*) from namespaces where name = 'default'")"
[ "$ns" = 1 ] || die "namespace default is not in PostgreSQL's temporal.namespaces ($ns)"
log "ok temporal: $(echo "$out" | tr -s ' \n' ' ')on PostgreSQL (temporal.namespaces has default)"

# 3. The Web UI, and its proxy to Temporal.
curl -fsS "http://127.0.0.1:$TEMPORAL_UI_PORT/" | grep -qi '<html' || die "the UI's / is not HTML"
api="$(curl -fsS "http://127.0.0.1:$TEMPORAL_UI_PORT/api/v1/namespaces")" || die "the UI's /api/v1/namespaces failed"
case "$api" in *'"default"'*) log "ok temporal-ui: serves the UI; /api/v1/namespaces lists default" ;; *) die "the UI's API did not list default: ${api:0:200}" ;; esac

# 4. The worker polls its task queue from this host, and registered the run search attributes.
tq="$(temporal task-queue describe --task-queue "$TASK_QUEUE" --address "127.0.0.1:$TEMPORAL_PORT" -o json)" || die "task-queue describe failed"
echo "$tq" | grep -q "@$(hostname)\"" || die "no poller of $(hostname) on $TASK_QUEUE: $tq"
sa="$(temporal operator search-attribute list --address "127.0.0.1:$TEMPORAL_PORT")"
case "$sa" in *NsStatus*NsRepo*|*NsRepo*NsStatus*) ;; *) die "run search attributes missing: $sa" ;; esac
log "ok worker: polls $TASK_QUEUE as $(echo "$tq" | grep -o "\"[0-9]*@$(hostname)\"" | head -1); run search attributes registered"

# 5. The webhook receiver.
[ "$(curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz")" = ok ] || die "webhooks /healthz did not answer ok"
log "ok webhooks: /healthz"
log "PASS: the deployment started and answered in $((SECONDS - START))s"
