#!/usr/bin/env bash
# Generates the throw-away certificates the TLS tests use, into DIR:
#
#   ca.crt ca.key              test CA that signs everything below
#   server.crt server.key      CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   wronghost.crt wronghost.key  signed by the CA, SAN DNS:wrong.example only
#   expired.crt expired.key    CN/SAN localhost, valid only during January 2020
#   client.crt client.key      CN=alice, extendedKeyUsage clientAuth
#   other-ca.crt other-ca.key  a second CA that signed none of the above
#   bad.pem                    not a certificate at all
#
# Keys are unencrypted P-256 keys; nothing here is fit for production.
# Usage: tests/tls/make-certs.sh DIR   (DIR is created; existing files are replaced)
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # ca NAME CN
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.crt" 2>/dev/null
}

leaf() { # leaf NAME CN EXTFILE-CONTENT
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

ca ca "TCP-DuckDB test CA"
ca other-ca "Some other CA"
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf wronghost wrong.example "subjectAltName=DNS:wrong.example
extendedKeyUsage=serverAuth"
leaf client alice "extendedKeyUsage=clientAuth"

# OpenSSL 3.0's `x509 -req` cannot back-date a certificate; `openssl ca` can.
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
mkdir -p ca-db && : >ca-db/index.txt
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
echo 1000 >ca-db/serial
openssl ca -batch -config ca-db/ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
    -startdate 20200101000000Z -enddate 20200201000000Z -out expired.crt 2>/dev/null >/dev/null
rm -rf ca-db expired.csr ca.srl

echo "this is not a certificate" >bad.pem
chmod 600 ./*.key
