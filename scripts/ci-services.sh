#!/usr/bin/env bash
# Services the test suite needs: redis-server on the PATH (for the BullMQ batch tests, which
# start and stop their own private server on a free loopback port) and nothing left running.
#
#   bash scripts/ci-services.sh           install Debian's redis-server if missing (idempotent)
#   bash scripts/ci-services.sh --start   also start a shared Redis on 127.0.0.1 for manual
#                                         runs (6379, or a free port if 6379 is taken), wait for
#                                         PING, print REDIS_URL=... and write it to
#                                         $DIFFSPARSE_CI_ENV (default /tmp/diffsparse-ci.env)
#   bash scripts/ci-services.sh --stop    stop a Redis that --start started
#
# Without --start no daemon is started (issue 18: CI used to leave one running).
set -euo pipefail

mode="${1:-install}"
case "$mode" in install | --start | --stop) ;; *) echo "usage: $0 [--start|--stop]" >&2; exit 2 ;; esac
env_file="${DIFFSPARSE_CI_ENV:-/tmp/diffsparse-ci.env}"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi

if [ "$mode" = "--stop" ]; then
  for pidfile in /tmp/diffsparse-redis-*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then echo "ci-services: stopped redis-server (pid $pid)" >&2; fi
    rm -f "$pidfile"
  done
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ci-services: installing redis-server" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi

[ "$mode" = "--start" ] || exit 0

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
echo "ci-services: stop it with: bash $0 --stop" >&2
