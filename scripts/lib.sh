# Shared helpers for the project's scripts. Source it; do not run it.
#
# Everything the scripts start lives under $STACK_DIR (git-ignored), listens on 127.0.0.1 only and is
# recorded by PID so `stack down` ends exactly what `stack up` started. Tools built with `cargo install`
# go to a cache outside the checkout ($SLUICE_CACHE) so fresh clones and CI reruns reuse them.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${SLUICE_STACK_DIR:-$REPO_ROOT/.stack}"
SLUICE_CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
TOOLS_ROOT="$SLUICE_CACHE/tools"
TOOLS_TARGET_DIR="$SLUICE_CACHE/cargo-target"

MYSQL_PORT="${SLUICE_MYSQL_PORT:-3306}"
ZK_PORT="${SLUICE_ZK_PORT:-2181}"
KAFKA_PORT="${SLUICE_KAFKA_PORT:-9092}"
RABBIT_PORT="${SLUICE_RABBITMQ_PORT:-5672}"
ROCKET_NAMESRV_PORT="${SLUICE_ROCKETMQ_NAMESRV_PORT:-9876}"
ROCKET_BROKER_PORT="${SLUICE_ROCKETMQ_BROKER_PORT:-10911}"
RABBIT_EPMD_PORT="${SLUICE_RABBITMQ_EPMD_PORT:-$((RABBIT_PORT - 1301))}"

NISSHI_VERSION=0.7.0
ROCKETMQ_VERSION=1.0.0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# wait_until SECONDS DESCRIPTION COMMAND...: retry COMMAND every 0.2 s until it succeeds or time runs out.
wait_until() {
  local seconds=$1 what=$2; shift 2
  wait_for_server "$seconds" "$what" "" "" "$@"
}

# wait_for_server SECONDS DESCRIPTION PIDFILE LOGFILE COMMAND...: wait_until for a server started with
# start_daemon; gives up at once if the server exits, and on failure shows the end of its LOGFILE, so
# the reason is in the output (CI keeps nothing else). Empty PIDFILE and LOGFILE: no server to watch.
# COMMAND must return on its own: probes carry their own timeouts (a ZooKeeper probe once hung here
# for 15 minutes on a server that accepted the connection and never answered).
wait_for_server() {
  local seconds=$1 what=$2 pidfile=$3 logfile=$4; shift 4
  local deadline=$((SECONDS + seconds)) problem=""
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pidfile ]] && ! pid_alive "$pidfile"; then
      problem="exited before it came up"
    elif ((SECONDS >= deadline)); then
      problem="did not come up within ${seconds}s"
    else
      sleep 0.2
      continue
    fi
    if [[ -n $logfile ]]; then
      log "last lines of $logfile:"
      tail -n 25 "$logfile" | sed 's/\x1b\[[0-9;]*m//g' >&2
    fi
    die "$what $problem"
  done
}

# used_percent PATH: how full PATH's filesystem is, as (total - available) / total; space reserved for
# root counts as used, as RocketMQ counts it.
used_percent() { df -P -B1 "$1" | awk 'NR == 2 { printf "%d", ($2 - $4) * 100 / $2 }'; }

# pid_alive PIDFILE: the recorded process exists and is not a zombie.
pid_alive() {
  local pidfile=$1 pid state
  [[ -s $pidfile ]] || return 1
  pid=$(cat "$pidfile")
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

# start_daemon NAME PIDFILE LOGFILE COMMAND...: start COMMAND in its own session, record its exact PID.
start_daemon() {
  local name=$1 pidfile=$2 logfile=$3; shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 < /dev/null &
  local waited=0
  until [[ -s $pidfile ]]; do
    sleep 0.05; waited=$((waited + 1))
    ((waited < 100)) || die "$name did not record its pid in $pidfile"
  done
}

# stop_daemon NAME PIDFILE: SIGTERM the recorded PID, wait up to 20 s, then SIGKILL it.
stop_daemon() {
  local name=$1 pidfile=$2 pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    pid_alive "$pidfile" || break
    sleep 0.2
  done
  if pid_alive "$pidfile"; then
    log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped $name (pid $pid)"
}

port_open() { timeout 5 nc -z 127.0.0.1 "$1"; }

# apt_install PACKAGE...: install the Debian packages that are missing, without starting services.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing apt packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # Packages must not start system services: everything runs as our own processes on loopback.
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # A split install can fail once with "failed to read archive" when an apt hook removed the .debs:
  # the second attempt succeeds (see notes/local-services.md).
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { $sudo apt-get install -y -qq -f >/dev/null || true
      $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# cargo_tool BINARY CRATE VERSION [ARGS...]: `cargo install` a tool into the shared cache unless present.
# Debug profile without debug info: these are test servers, and release builds cost 3x the time.
cargo_tool() {
  local bin=$1 crate=$2 version=$3; shift 3
  [[ -x $TOOLS_ROOT/bin/$bin ]] && return 0
  log "building $crate $version into $TOOLS_ROOT (once; later runs reuse it)"
  CARGO_PROFILE_DEV_DEBUG=0 cargo install --quiet --locked --debug "$crate" --version "$version" \
    --root "$TOOLS_ROOT" --target-dir "$TOOLS_TARGET_DIR" "$@"
  [[ -x $TOOLS_ROOT/bin/$bin ]] || die "cargo install $crate did not produce $bin"
}

# python_tools: a virtualenv with the test and benchmark Python tools (canal-python, an independent
# Canal protobuf decoder; pika, to bind RabbitMQ queues), created once under $SLUICE_CACHE; prints
# its python.
PYTHON_VENV="$SLUICE_CACHE/venv"
python_tools() {
  local marker="$PYTHON_VENV/.sluice-tools-1"
  if [[ ! -e $marker ]]; then
    apt_install python3-venv
    log "creating $PYTHON_VENV with canal-python (once)"
    rm -rf "$PYTHON_VENV"
    /usr/bin/python3 -m venv "$PYTHON_VENV"
    # canal-python's generated code needs the pure-Python protobuf 3.x runtime.
    "$PYTHON_VENV/bin/pip" install --quiet --disable-pip-version-check canal-python==0.4 protobuf==3.20.3 pika==1.3.2
    touch "$marker"
  fi
  echo "$PYTHON_VENV/bin/python"
}
