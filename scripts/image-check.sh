#!/usr/bin/env bash
# Builds the image from ./Dockerfile and runs it the way docker-compose.yml does: the migrations step,
# then ROLE=api and ROLE=worker on one PostgreSQL. Checks readiness, the image's own HEALTHCHECK, that
# the processes are not root, the `vigil` command, one alert end to end (scripts/image-check/alert.mjs),
# and a clean stop on SIGTERM. Needs a container engine that answers (docker or podman) and curl;
# without an engine it says "skipped" and exits 0. Not part of `npm test` or CI: neither has an engine.
#
# Settings (all optional):
#   IMAGE_CHECK_ENGINE        docker or podman (default: the first whose `info` answers)
#   IMAGE_CHECK_IMAGE         tag to build (default vigil:image-check)
#   IMAGE_CHECK_BUILD_ARGS    extra words for `build`, e.g. "--pull=never" for a local base image
#   IMAGE_CHECK_DATABASE_URL  an empty PostgreSQL database to use; otherwise a throwaway cluster is
#                             started from local PostgreSQL binaries, else from the postgres:16 image
#   IMAGE_CHECK_PORT          first of four loopback ports (api, worker, SMTP sink, PostgreSQL); 53000
# Containers use the host's network (Linux), as the sink and database listen on the loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'image-check: %s\n' "$*"; }
fail() {
  say "FAILED: $*"
  exit 1
}

ENGINE=${IMAGE_CHECK_ENGINE:-}
if [ -z "$ENGINE" ]; then
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
      ENGINE=$candidate
      break
    fi
  done
fi
if [ -z "$ENGINE" ]; then
  say 'skipped: no container engine (no docker or podman whose `info` answers)'
  exit 0
fi
command -v curl >/dev/null || fail 'curl is needed to time readiness from the host'

IMAGE=${IMAGE_CHECK_IMAGE:-vigil:image-check}
PORT0=${IMAGE_CHECK_PORT:-53000}
API_PORT=$PORT0
WORKER_PORT=$((PORT0 + 1))
SINK_PORT=$((PORT0 + 2))
PG_PORT=$((PORT0 + 3))
NAME=vigil-image-check-$$
# Its files hold passwords (the database's, the app's keys): readable by this user only; the folder
# is only traversable, for the postgres user to reach its cluster inside.
umask 077
WORK=$(mktemp -d)
chmod 711 "$WORK"
PG_BIN=''
PG_CONTAINER=''

cleanup() {
  "$ENGINE" rm -f "$NAME-api" "$NAME-worker" >/dev/null 2>&1 || true
  if [ -n "$PG_CONTAINER" ]; then "$ENGINE" rm -f "$PG_CONTAINER" >/dev/null 2>&1 || true; fi
  if [ -n "$PG_BIN" ]; then as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: as root, run its binaries as the postgres (or nobody) user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id postgres >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

say "engine: $("$ENGINE" --version)"

# --- build ------------------------------------------------------------------------------------------
build_flags=()
# Podman's default OCI image format has no HEALTHCHECK: it would drop the Dockerfile's silently.
if [ "$ENGINE" = podman ]; then build_flags+=(--format docker); fi
read -r -a extra_build <<<"${IMAGE_CHECK_BUILD_ARGS:-}"
started=$(date +%s)
"$ENGINE" build "${build_flags[@]}" "${extra_build[@]}" -t "$IMAGE" . || fail 'build'
say "built $IMAGE in $(($(date +%s) - started)) s"
size=$("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE")
say "image size: $((size / 1000000)) MB ($size bytes)"

# --- PostgreSQL -------------------------------------------------------------------------------------
db_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
if [ -n "${IMAGE_CHECK_DATABASE_URL:-}" ]; then
  DATABASE_URL=$IMAGE_CHECK_DATABASE_URL
  say 'database: IMAGE_CHECK_DATABASE_URL'
else
  if command -v initdb >/dev/null 2>&1; then
    PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
  else
    PG_BIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
  fi
  if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
    mkdir "$WORK/pg"
    printf '%s\n' "$db_password" >"$WORK/pgpass"
    if [ "$(id -u)" = 0 ]; then
      chown "$(id -u postgres 2>/dev/null || id -u nobody)" "$WORK/pg" "$WORK/pgpass"
    fi
    as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U vigil --auth=scram-sha-256 --pwfile="$WORK/pgpass" >"$WORK/initdb.log" 2>&1 ||
      fail "initdb: $(tail -3 "$WORK/initdb.log")"
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$WORK/pg" start >/dev/null ||
      fail "PostgreSQL did not start: $(tail -3 "$WORK/pg/server.log")"
    as_pg env PGPASSWORD="$db_password" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U vigil vigil || fail 'createdb'
    say "database: throwaway cluster from $PG_BIN ($("$PG_BIN/postgres" --version)) on 127.0.0.1:$PG_PORT"
  else
    PG_BIN=''
    PG_CONTAINER=$NAME-postgres
    "$ENGINE" run -d --name "$PG_CONTAINER" --network host -e POSTGRES_USER=vigil -e POSTGRES_PASSWORD="$db_password" \
      -e POSTGRES_DB=vigil postgres:16 -c listen_addresses=127.0.0.1 -c port="$PG_PORT" >/dev/null || fail 'postgres:16'
    for _ in $(seq 120); do
      "$ENGINE" exec "$PG_CONTAINER" pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U vigil -d vigil && break
      sleep 0.5
    done
    say "database: postgres:16 container on 127.0.0.1:$PG_PORT"
  fi
  DATABASE_URL=postgres://vigil:$db_password@127.0.0.1:$PG_PORT/vigil
fi

# --- the compose file's environment (its empty defaults included), a local SMTP sink, and a Twilio
# address where nothing listens: the check sends email only --------------------------------------------
secret() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
cat >"$WORK/vigil.env" <<EOF
NODE_ENV=production
DATABASE_URL=$DATABASE_URL
MIGRATIONS_RUN=false
PUBLIC_BASE_URL=https://vigil.image-check.test
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
ENCRYPTION_KEYS_PREVIOUS=
JWT_SECRET=$(secret 32)
BOOTSTRAP_ADMIN_EMAIL=admin@image-check.test
BOOTSTRAP_ADMIN_PASSWORD=$(secret 16)
SMTP_URL=smtp://127.0.0.1:$SINK_PORT
EMAIL_FROM=vigil@image-check.test
TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000
TWILIO_AUTH_TOKEN=$(secret 16)
TWILIO_FROM_NUMBER=+15005550006
TWILIO_API_BASE_URL=http://127.0.0.1:9
TRUST_PROXY=
LOG_LEVEL=info
METRICS_TOKEN=$(secret 24)
RETENTION_DAYS=365
EVENT_PAYLOAD_RETENTION_DAYS=
EOF
run() { "$ENGINE" run --network host --env-file "$WORK/vigil.env" "$@"; }

# --- migrations, then api and worker ----------------------------------------------------------------
run --rm "$IMAGE" node dist/src/database/migration.cli.js run >"$WORK/migrations.log" 2>&1 ||
  fail "migrations: $(tail -5 "$WORK/migrations.log")"
say "migrations: $(grep -c . <<<"$(grep -o 'Applied: .*' "$WORK/migrations.log" | tr ',' '\n')") applied"

ready_after() { # start-ms port: time from `run -d` to /health/ready answering 200
  local start=$1 port=$2
  for _ in $(seq 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
      echo "$(($(date +%s%N) / 1000000 - start)) ms"
      return 0
    fi
    sleep 0.1
  done
  return 1
}
start=$(($(date +%s%N) / 1000000))
# The api without an init process (node is PID 1, as under Kubernetes or a bare `docker run`), the worker
# with one (compose's `init: true`): both must stop cleanly on SIGTERM.
run -d --name "$NAME-api" -e ROLE=api -e PORT="$API_PORT" "$IMAGE" >/dev/null
took=$(ready_after "$start" "$API_PORT") || fail "api not ready: $("$ENGINE" logs "$NAME-api" 2>&1 | tail -5)"
say "api ready after $took"
start=$(($(date +%s%N) / 1000000))
run -d --init --name "$NAME-worker" -e ROLE=worker -e PORT="$WORKER_PORT" "$IMAGE" \
  node --enable-source-maps --max-old-space-size=192 dist/src/main.js >/dev/null
took=$(ready_after "$start" "$WORKER_PORT") || fail "worker not ready: $("$ENGINE" logs "$NAME-worker" 2>&1 | tail -5)"
say "worker ready after $took"

# --- the image's HEALTHCHECK, user and command --------------------------------------------------------
for role in api worker; do
  if [ "$ENGINE" = podman ]; then
    podman healthcheck run "$NAME-$role" >/dev/null 2>&1 || fail "$role: podman healthcheck run: $(podman healthcheck run "$NAME-$role" 2>&1)"
  else
    # Docker runs the first check one interval (15 s) after the start.
    status=''
    for _ in $(seq 60); do
      status=$(docker inspect --format '{{.State.Health.Status}}' "$NAME-$role")
      [ "$status" = healthy ] && break
      sleep 1
    done
    [ "$status" = healthy ] || fail "$role: health status $status"
  fi
  # Every process in the container, the init included: name, pid, uid.
  procs=$("$ENGINE" exec "$NAME-$role" sh -c 'for f in /proc/[0-9]*/status; do awk "/^(Name|Pid|Uid):/ {printf \"%s \", \$2}" "$f"; echo; done')
  [ -n "$procs" ] || fail "$role: could not list its processes"
  ! awk '$3 == 0' <<<"$procs" | grep -q . || fail "$role: a process runs as root: $procs"
  say "$role: HEALTHCHECK passes; processes (name pid uid): $(tr '\n' ';' <<<"$procs") user $("$ENGINE" exec "$NAME-$role" id -un)"
done
"$ENGINE" exec "$NAME-api" vigil --help >/dev/null 2>"$WORK/vigil-help.err" ||
  fail "\`vigil --help\` in the container: $(head -5 "$WORK/vigil-help.err")"
say 'vigil command: runs in the container'
# No embedded PostgreSQL in the image: started without DATABASE_URL it must say what to set.
if run --rm -e DATABASE_URL= "$IMAGE" >"$WORK/no-database.log" 2>&1; then fail 'started without DATABASE_URL'; fi
grep -q 'set DATABASE_URL' "$WORK/no-database.log" || fail "without DATABASE_URL: $(tail -3 "$WORK/no-database.log")"
say 'without DATABASE_URL: refuses to start and says to set it'

# --- one alert end to end ---------------------------------------------------------------------------
run --rm -e API_URL="http://127.0.0.1:$API_PORT" -e SINK_PORT="$SINK_PORT" \
  -v "$PWD/scripts/image-check:/app/image-check:ro" "$IMAGE" node image-check/alert.mjs || fail 'alert end to end'

# --- SIGTERM: in-flight work drains, then a clean exit ------------------------------------------------
for role in worker api; do
  start=$(($(date +%s%N) / 1000000))
  "$ENGINE" stop -t 40 "$NAME-$role" >/dev/null
  code=$("$ENGINE" inspect --format '{{.State.ExitCode}}' "$NAME-$role")
  [ "$code" = 0 ] || fail "$role exited $code after SIGTERM"
  say "$role: stopped in $(($(date +%s%N) / 1000000 - start)) ms, exit code 0"
done
say 'ok'
