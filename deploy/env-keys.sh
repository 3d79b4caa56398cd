#!/bin/sh
# The key pairs .env needs for compose.yaml, each PEM on one line (a .env line holds one value):
#
#   sh deploy/env-keys.sh          # prints four lines: put them in .env in place of the empty ones
#
# WEBOS_JWT_*: the gateway signs access tokens with the private key (only the gateway gets it).
# WEBOS_IDENTITY_*: the gateway and the scheduler sign identities on the bus; every process
# verifies them with the public key. Needs openssl 1.1.1 or newer (Ed25519).
set -eu
for name in JWT IDENTITY; do
  private=$(openssl genpkey -algorithm ed25519)
  public=$(printf '%s\n' "$private" | openssl pkey -pubout)
  printf 'WEBOS_%s_PRIVATE_KEY_FILE=%s\n' "$name" "$(printf '%s' "$private" | tr '\n' ' ')"
  printf 'WEBOS_%s_PUBLIC_KEY_FILE=%s\n' "$name" "$(printf '%s' "$public" | tr '\n' ' ')"
done
