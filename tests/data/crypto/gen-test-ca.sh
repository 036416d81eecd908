#!/bin/sh
# Regenerates the test CA, a second unrelated CA and a leaf for sns.amazonaws.com signed by the
# first CA (20-year validity). Private keys are throw-away and not kept. Run from this folder.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out test-ca.pem -days 7300 \
    -subj '/O=asakai test/CN=asakai test root CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/other.key" -out other-ca.pem -days 7300 \
    -subj '/O=asakai test/CN=asakai other root CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" \
    -subj '/CN=sns.amazonaws.com'
cat > "$tmp/ext.cnf" <<EOT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:sns.amazonaws.com
EOT
openssl x509 -req -in "$tmp/leaf.csr" -CA test-ca.pem -CAkey "$tmp/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days 7300 -sha256 -extfile "$tmp/ext.cnf" -out test-leaf.pem
