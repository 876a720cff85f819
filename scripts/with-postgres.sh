#!/usr/bin/env bash
# Runs CMD... with ATOMS_TEST_DATABASE_URL pointing at a throwaway PostgreSQL cluster:
# initdb + pg_ctl in a temp dir, on a free loopback port, as a non-root user (PostgreSQL
# refuses to run as root: under root the server runs as `postgres` via runuser/su). The
# cluster is stopped and deleted afterwards; CMD's exit status is returned.
#
#   scripts/with-postgres.sh cargo test -p atoms-webhook-receiver --features postgres
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

find_bin() {
    local name="$1" dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$dir" ] && [ -x "$dir/$name" ]; then
        echo "$dir/$name"
    elif command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
    else
        for dir in /usr/lib/postgresql/*/bin; do
            if [ -x "$dir/$name" ]; then echo "$dir/$name"; return; fi
        done
        echo "with-postgres: $name not found (install PostgreSQL server binaries)" >&2
        exit 1
    fi
}
INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"

# As root, run the server as an unprivileged user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    pg_user="${ATOMS_PG_USER:-postgres}"
    if ! id "$pg_user" >/dev/null 2>&1; then
        echo "with-postgres: running as root and there is no '$pg_user' user" >&2
        exit 1
    fi
    if command -v runuser >/dev/null 2>&1; then
        as_pg=(runuser -u "$pg_user" --)
    else
        as_pg=(su "$pg_user" -s /bin/sh -c)
    fi
fi
run_pg() {
    if [ "${#as_pg[@]}" -eq 0 ]; then
        "$@"
    elif [ "${as_pg[0]}" = su ]; then
        "${as_pg[@]}" "$(printf '%q ' "$@")"
    else
        "${as_pg[@]}" "$@"
    fi
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        local p
        for _ in $(seq 1 50); do
            p=$(( 20000 + RANDOM % 40000 ))
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
        done
        echo "with-postgres: no free port found" >&2
        exit 1
    fi
}

dir="$(mktemp -d "${TMPDIR:-/tmp}/atoms-pg.XXXXXX")"
chmod 700 "$dir"
if [ "${#as_pg[@]}" -ne 0 ]; then chown "$pg_user" "$dir"; fi
port="$(free_port)"

cleanup() {
    run_pg "$PG_CTL" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

run_pg "$INITDB" -D "$dir/data" -U atoms -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
run_pg "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}

export ATOMS_TEST_DATABASE_URL="postgres://atoms@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port (ATOMS_TEST_DATABASE_URL exported)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
