#!/usr/bin/env bash
# Makes a certificate authority, a broker certificate and one client certificate per device, for
# Mosquitto with `require_certificate true` + `use_identity_as_username true` +
# `use_username_as_clientid true`: the certificate's CN is the device's whole path,
# TENANT/STORE/DEVICE, which becomes its MQTT username and client id, and the ACL's %u stands for
# it — so a certificate reaches only its own tenant's, store's and device's topics, and no device
# can take over another's session.
#
#   make-certs.sh OUT_DIR BROKER_HOST TENANT/STORE/DEVICE [TENANT/STORE/DEVICE ...]
#
# A device's files are named after its path with "/" as "_": acme_s1_kiosk-01.{crt,key}.
#
# Re-running keeps an existing CA (so existing device certificates stay valid) and adds what is
# missing. For production, keep ca.key offline and issue device certificates at provisioning time.
set -euo pipefail
usage() {
    cat >&2 <<EOT
usage: $0 OUT_DIR BROKER_HOST TENANT/STORE/DEVICE [TENANT/STORE/DEVICE ...]   issue certificates
       $0 OUT_DIR --revoke TENANT/STORE/DEVICE                               revoke one, renew crl.pem
       $0 OUT_DIR --crl                                                      renew crl.pem (before it expires)
EOT
    exit 2
}
[ $# -ge 2 ] || usage
out=$1; shift
command -v openssl >/dev/null || { echo "error: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out"; cd "$out"
days=825

# The CA's database and revocation list (crl.pem, for Mosquitto's `crlfile`; valid for a year:
# renew it with --crl before then, or the broker refuses every device).
ca_db() {
    [ -f ca.cnf ] || cat > ca.cnf <<'EOT'
[ ca ]
default_ca = kiosk_ca
[ kiosk_ca ]
database = index.txt
new_certs_dir = .
certificate = ca.crt
private_key = ca.key
serial = ca-db.srl
crlnumber = crlnumber
default_md = sha256
default_crl_days = 365
policy = any
[ any ]
commonName = supplied
EOT
    [ -f index.txt ] || touch index.txt
    [ -f crlnumber ] || echo 1000 > crlnumber
    # Serials for certificates `openssl ca` signs (random: never one `openssl x509` used).
    [ -f ca-db.srl ] || openssl rand -hex 16 > ca-db.srl
}
renew_crl() {
    openssl ca -config ca.cnf -batch -gencrl -out crl.pem 2>/dev/null
    echo "crl.pem renewed in $(pwd): $(grep -c '^R' index.txt) revoked certificate(s); copy it to the broker and reload it (SIGHUP)"
}
case "$1" in
    --revoke)
        [ $# -eq 2 ] || usage
        [ -f ca.key ] || { echo "error: no CA in $(pwd)" >&2; exit 1; }
        crt="${2//\//_}.crt"
        [ -f "$crt" ] || { echo "error: no certificate $crt in $(pwd)" >&2; exit 1; }
        ca_db
        openssl ca -config ca.cnf -batch -revoke "$crt" 2>/dev/null
        renew_crl
        exit 0 ;;
    --crl)
        [ -f ca.key ] || { echo "error: no CA in $(pwd)" >&2; exit 1; }
        ca_db
        renew_crl
        exit 0 ;;
esac
[ $# -ge 2 ] || usage
host=$1; shift

if [ ! -f ca.key ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/CN=Interview kiosk test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 600 ca.key
fi

issue() { # name CN extensions
    local name=$1 cn=$2 ext=$3
    [ -f "$name.crt" ] && return 0
    # "/" separates -subj's fields: a device path's slashes are escaped.
    openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=${cn//\//\\/}" 2>/dev/null
    printf '%b' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" \
        -days $days -extfile "$name.ext" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
    chmod 600 "$name.key"
}

ca_db
[ -f crl.pem ] || openssl ca -config ca.cnf -batch -gencrl -out crl.pem 2>/dev/null

san="DNS:$host"
case "$host" in *[!0-9.]*) ;; *) san="IP:$host" ;; esac
issue broker "$host" "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=$san,DNS:localhost,IP:127.0.0.1\n"
for device in "$@"; do
    [[ "$device" =~ ^[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$ ]] || {
        echo "error: '$device' is not TENANT/STORE/DEVICE (letters, digits, - and _ in each part)" >&2
        exit 2
    }
    issue "${device//\//_}" "$device" "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
done
echo "certificates in $(pwd): ca.crt, crl.pem, broker.{crt,key}, and {crt,key} for: $*"
