# The cloud half of `provisioning/dev.sh demo` (sourced by dev.sh): a private PostgreSQL and
# Mosquitto under var/demo/cloud on free ports, one cloud-bridge, and the kiosk's sync agent on a
# copy of the example station pointed at that broker. cloud_down stops all of them.

demo_cloud_dir="$root/var/demo/cloud"
pg_bin=/usr/lib/postgresql/15/bin
demo_token="demo-hr-token-0123456789abcdef"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Runs a PostgreSQL tool as the postgres user when we are root (initdb refuses root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cloud_up() {
    local bin="$1" d="$demo_cloud_dir"
    cloud_down 2>/dev/null || true
    rm -rf "$d" && mkdir -p "$d/pg"
    local pg_port broker_port api_port
    pg_port=$(free_port); broker_port=$(free_port); api_port=$(free_port)
    say "cloud: PostgreSQL on port $pg_port (private cluster in var/demo/cloud/pg)"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$d/pg"
        local p="$d"; while [ "$p" != / ]; do chmod o+x "$p"; p=$(dirname "$p"); done
    fi
    as_pg "$pg_bin/initdb" -D "$d/pg" -A trust -U postgres >"$d/initdb.log"
    as_pg "$pg_bin/pg_ctl" -D "$d/pg" -l "$d/pg/server.log" -w \
        -o "-p $pg_port -k $d/pg -c listen_addresses=''" start >/dev/null
    say "cloud: Mosquitto on port $broker_port"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$broker_port" >"$d/mosquitto.conf"
    mosquitto -c "$d/mosquitto.conf" >"$d/mosquitto.log" 2>&1 &
    echo $! >"$d/mosquitto.pid"
    cat >"$d/cloud.toml" <<EOF
[database]
url = "host=$d/pg port=$pg_port user=postgres dbname=postgres"

[broker]
host = "127.0.0.1"
port = $broker_port
client_id = "demo-bridge-1"

[api]
listen = "127.0.0.1:$api_port"

[[tenant]]
id = "acme-retail"
[[tenant.token]]
user = "demo"
token = "$demo_token"
EOF
    echo "$api_port" >"$d/api.port"
    local bridge="env RUST_LOG=warn $bin/cloud-bridge --config $d/cloud.toml"
    $bridge migrate >/dev/null
    $bridge devices add --tenant acme-retail --store sh-pudong-001 --device kiosk-01 >/dev/null
    say "cloud: cloud-bridge (HR API on http://127.0.0.1:$api_port)"
    $bridge run >"$d/bridge.log" 2>&1 &
    echo $! >"$d/bridge.pid"
    # The example station, pointed at this broker (its relative paths made absolute).
    sed -e "s|\"\\.\\./\\.\\./var/|\"$root/var/|" -e "s|^roles_dir = \"roles\"|roles_dir = \"$root/provisioning/examples/roles\"|" \
        -e "s|^port = 1883|port = $broker_port|" "$root/provisioning/examples/station.toml" >"$d/station.toml"
    say "cloud: sync-agent for kiosk-01"
    "$bin/sync-agent" --station "$d/station.toml" >"$d/agent.log" 2>&1 &
    echo $! >"$d/agent.pid"
}

# Waits until the kiosk has nothing unconfirmed, then prints the newest candidate's record as the
# HR API returns it.
cloud_show() {
    local bin="$1" d="$demo_cloud_dir" api
    api=$(cat "$d/api.port")
    say "cloud: waiting for the kiosk's results to be confirmed by the cloud"
    local i status
    for i in $(seq 1 120); do
        status=$("$bin/sync-agent" status --json --station "$d/station.toml" 2>/dev/null || true)
        if echo "$status" | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s.get("backlog")==0 and s.get("unconfirmed")==0 else 1)' 2>/dev/null; then
            break
        fi
        sleep 1
    done
    local id
    id=$(curl -sf -H "Authorization: Bearer $demo_token" "http://127.0.0.1:$api/v1/candidates?limit=1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["candidate_id"])')
    say "cloud: the newest candidate as central HR sees it (GET /v1/candidates/$id)"
    curl -sf -H "Authorization: Bearer $demo_token" "http://127.0.0.1:$api/v1/candidates/$id" | python3 -m json.tool --no-ensure-ascii
}

cloud_down() {
    local d="$demo_cloud_dir" f
    for f in agent bridge mosquitto; do
        [ -f "$d/$f.pid" ] && kill "$(cat "$d/$f.pid")" 2>/dev/null || true
        rm -f "$d/$f.pid"
    done
    [ -d "$d/pg" ] && as_pg "$pg_bin/pg_ctl" -D "$d/pg" -m fast stop >/dev/null 2>&1 || true
}
