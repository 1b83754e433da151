# Sourced by scripts/test and scripts/bench: a throwaway PostgreSQL cluster of our own.
#   start_throwaway_postgres [tcp|socket] [extra postgres -c settings...]
# sets THROWAWAY_PG_URL (a superuser URL to the `postgres` database) and removes the cluster
# on exit. Installs Debian's postgresql package first when initdb is missing.

find_pgbin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_postgres_installed() {
  if [ -z "$(find_pgbin)" ]; then
    echo "initdb not found: installing Debian's postgresql package" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
}

# initdb refuses to run as root, so as root the cluster belongs to the postgres user.
# From / so the postgres user never needs access to the caller's working directory.
as_cluster_owner() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

start_throwaway_postgres() {
  local mode=${1:-socket}; shift || true
  ensure_postgres_installed
  local pgbin; pgbin=$(find_pgbin)
  THROWAWAY_PG_DIR=$(mktemp -d /tmp/roadback-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$THROWAWAY_PG_DIR"
  trap stop_throwaway_postgres EXIT
  as_cluster_owner "$pgbin/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -D "$THROWAWAY_PG_DIR/data" >/dev/null
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local listen="''"
  [ "$mode" = tcp ] && listen=127.0.0.1
  local opts="-p $port -k $THROWAWAY_PG_DIR -c listen_addresses=$listen -c max_connections=300"
  local setting
  for setting in "$@"; do opts="$opts -c $setting"; done
  as_cluster_owner "$pgbin/pg_ctl" -w -t 60 -D "$THROWAWAY_PG_DIR/data" -l "$THROWAWAY_PG_DIR/log" -o "$opts" start >/dev/null
  if [ "$mode" = tcp ]; then
    THROWAWAY_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  else
    THROWAWAY_PG_URL="postgres://postgres@localhost:$port/postgres?host=$THROWAWAY_PG_DIR"
  fi
  THROWAWAY_PG_VERSION=$("$pgbin/postgres" --version | awk '{print $3}')
  export THROWAWAY_PG_URL THROWAWAY_PG_VERSION
  echo "throwaway PostgreSQL $THROWAWAY_PG_VERSION at $THROWAWAY_PG_URL" >&2
}

stop_throwaway_postgres() {
  [ -n "${THROWAWAY_PG_DIR:-}" ] || return 0
  local pgbin; pgbin=$(find_pgbin)
  as_cluster_owner "$pgbin/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$THROWAWAY_PG_DIR"
  THROWAWAY_PG_DIR=
}
