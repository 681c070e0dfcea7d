#!/usr/bin/env bash
# The local cluster behind `make up` / `make down` / `make status`. Everything it makes lives in
# .coxswain/ at the repository root (ignored by git), laid out as ../shared/DESIGN.md describes:
#   .coxswain/store-endpoints          one line: 127.0.0.1:12379,127.0.0.1:22379,127.0.0.1:32379
#   .coxswain/logs/<process>.log       e.g. store-1.log
#   .coxswain/pids/<process>.pid
#   .coxswain/data/<process>/          data directories
#   .coxswain/kubeconfig               admin kubeconfig for kubectl and coxctl
#   .coxswain/pki/                     cluster CA and certificates (coxswain pki)
# The cluster: three store members and two API servers on loopback.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
state="$root/.coxswain"
coxswain="$root/bin/coxswain"
members=(1 2 3)
apiservers=(1 2)
apiserver_port() { echo "${1}6443"; }
apiserver_grpc_port() { echo "${1}6444"; }
client_port() { echo "${1}2379"; }
peer_port() { echo "${1}2380"; }
metrics_port() { echo "${1}2381"; }

say() { printf 'cluster: %s\n' "$*" >&2; }

running() { # process name -> 0 if its pid file names a live process (a zombie is not live)
  local pidfile="$state/pids/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -r "/proc/$pid/stat" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ]
}

start_store() {
  local i="$1" name="store-$1"
  if running "$name"; then say "$name already running (pid $(cat "$state/pids/$name.pid"))"; return; fi
  local cluster="" sep=""
  for j in "${members[@]}"; do cluster+="${sep}store-$j=http://127.0.0.1:$(peer_port "$j")"; sep=","; done
  local data="$state/data/$name" cluster_state=new
  [ -d "$data/member" ] && cluster_state=existing
  mkdir -p "$data" "$state/logs" "$state/pids"
  COXSWAIN_LOG_LEVEL="${COXSWAIN_LOG_LEVEL:-info}" nohup "$coxswain" store \
    --name "$name" --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$(client_port "$i")" --advertise-client-urls "http://127.0.0.1:$(client_port "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
    --listen-metrics-urls "http://127.0.0.1:$(metrics_port "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state "$cluster_state" --initial-cluster-token coxswain-local \
    >>"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/pids/$name.pid"
  say "started $name (pid $!), client 127.0.0.1:$(client_port "$i"), log .coxswain/logs/$name.log"
}

start_apiserver() {
  local i="$1" name="apiserver-$1"
  if running "$name"; then say "$name already running (pid $(cat "$state/pids/$name.pid"))"; return; fi
  local pki="$state/pki"
  nohup "$coxswain" apiserver \
    --bind-address 127.0.0.1 --secure-port "$(apiserver_port "$i")" --grpc-port "$(apiserver_grpc_port "$i")" \
    --store-endpoints "$(cat "$state/store-endpoints")" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    >>"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/pids/$name.pid"
  say "started $name (pid $!), https://127.0.0.1:$(apiserver_port "$i"), log .coxswain/logs/$name.log"
}

wait_apiservers() {
  local deadline=$((SECONDS + 60))
  for i in "${apiservers[@]}"; do
    until curl -fsSk "https://127.0.0.1:$(apiserver_port "$i")/readyz" >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ]; then say "apiserver-$i did not become ready; see .coxswain/logs/apiserver-$i.log"; tail -20 "$state/logs/apiserver-$i.log" >&2; return 1; fi
      sleep 0.2
    done
  done
}

wait_healthy() {
  local deadline=$((SECONDS + 60))
  for i in "${members[@]}"; do
    until curl -fsS "http://127.0.0.1:$(metrics_port "$i")/health" 2>/dev/null | grep -q '"health":"true"'; do
      if [ $SECONDS -ge $deadline ]; then say "store-$i did not become healthy; see .coxswain/logs/store-$i.log"; tail -20 "$state/logs/store-$i.log" >&2; return 1; fi
      sleep 0.2
    done
  done
}

stop_all() {
  [ -d "$state/pids" ] || return 0
  for pidfile in "$state"/pids/*.pid; do
    [ -f "$pidfile" ] || continue
    local name pid; name="$(basename "$pidfile" .pid)"; pid="$(cat "$pidfile")"
    if running "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do running "$name" || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      say "stopped $name"
    fi
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  up)
    for i in "${members[@]}"; do start_store "$i"; done
    endpoints=""; sep=""
    for i in "${members[@]}"; do endpoints+="${sep}127.0.0.1:$(client_port "$i")"; sep=","; done
    echo "$endpoints" >"$state/store-endpoints"
    wait_healthy
    servers=""; sep=""
    for i in "${apiservers[@]}"; do servers+="${sep}https://127.0.0.1:$(apiserver_port "$i")"; sep=","; done
    "$coxswain" pki --dir "$state/pki" --kubeconfig "$state/kubeconfig" --servers "$servers"
    for i in "${apiservers[@]}"; do start_apiserver "$i"; done
    wait_apiservers
    cat >&2 <<MSG
cluster: up. Store: $endpoints (.coxswain/store-endpoints). API servers: $servers
  export KUBECONFIG=$state/kubeconfig
  kubectl get namespaces
  kubectl create deployment web --image=nginx && kubectl get deploy,rs -o wide
  etcdctl --endpoints=$endpoints endpoint status -w table
  stop: make down     wipe data: make clean-cluster     logs: .coxswain/logs/
MSG
    ;;
  down) stop_all ;;
  status)
    for name in $(for i in "${members[@]}"; do echo "store-$i"; done) $(for i in "${apiservers[@]}"; do echo "apiserver-$i"; done); do
      if running "$name"; then echo "$name running (pid $(cat "$state/pids/$name.pid"))"; else echo "$name stopped"; fi
    done
    ;;
  clean) stop_all; rm -rf "$state" ;;
  *) echo "usage: $0 up|down|status|clean" >&2; exit 2 ;;
esac
