#!/usr/bin/env bash
# Services the test suite needs: a Redis server on loopback (for the BullMQ batch tests).
# Idempotent: installs Debian's redis-server if missing, reuses a Redis already answering,
# otherwise starts one on 127.0.0.1 (port 6379, or a free port if 6379 is taken) and waits
# for PING. Prints REDIS_URL=... and writes it to $DIFFSPARSE_CI_ENV (default /tmp/diffsparse-ci.env).
set -euo pipefail

env_file="${DIFFSPARSE_CI_ENV:-/tmp/diffsparse-ci.env}"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ci-services: installing redis-server" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi

ping_port() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=6379
if ! ping_port "$port"; then
  if port_taken "$port"; then
    # 6379 is held by something that is not Redis: pick a free port instead.
    port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  fi
  echo "ci-services: starting redis-server on 127.0.0.1:$port" >&2
  # No persistence: the test queues are throwaway.
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --save '' --appendonly no \
    --dir /tmp --logfile "/tmp/diffsparse-redis-$port.log" --pidfile "/tmp/diffsparse-redis-$port.pid"
  for _ in $(seq 1 100); do
    if ping_port "$port"; then break; fi
    sleep 0.1
  done
  if ! ping_port "$port"; then
    echo "ci-services: redis-server did not answer PING on 127.0.0.1:$port (see /tmp/diffsparse-redis-$port.log)" >&2
    exit 1
  fi
fi

echo "REDIS_URL=redis://127.0.0.1:$port" | tee "$env_file"
