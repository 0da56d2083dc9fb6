#!/usr/bin/env bash
# A real OpenSearch 2.19 cluster on 127.0.0.1 for development and tests, from Maven Central's jars.
#
#   scripts/opensearch-local.sh start [--nodes N] [--http-port P] [--transport-port T] [--fresh]
#   scripts/opensearch-local.sh status
#   scripts/opensearch-local.sh stop
#
# start: resolves the jars of scripts/opensearch/pom.xml with Maven on first use (they stay in
# ~/.m2; the classpath and the compiled launcher are kept in the cache dir below), starts N nodes
# (one JVM each, node-1..node-N; HTTP on P..P+N-1, transport on T..T+N-1, default P=9200, T=P+100),
# waits until the cluster is green with N nodes and prints one line per node: name, URL, pid.
# Data is kept between stop and start; --fresh deletes it first.
# stop: stops the nodes that start started (pid files in the state dir), TERM then KILL after 30 s.
#
# Environment:
#   OPENSEARCH_LOCAL_DIR      state dir: pid files, node data and logs (default: <checkout>/.opensearch)
#   OPENSEARCH_LOCAL_CACHE    classpath and launcher cache (default: ~/.cache/searchapp-opensearch)
#   OPENSEARCH_LOCAL_HEAP     heap per node (default: 512m)
#   OPENSEARCH_LOCAL_TIMEOUT  seconds to wait for a green cluster (default: 180)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/opensearch"
STATE="${OPENSEARCH_LOCAL_DIR:-$(dirname "$HERE")/.opensearch}"
CACHE_ROOT="${OPENSEARCH_LOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/searchapp-opensearch}"
HEAP="${OPENSEARCH_LOCAL_HEAP:-512m}"
TIMEOUT="${OPENSEARCH_LOCAL_TIMEOUT:-180}"
CLUSTER="searchapp-local"

die() { echo "opensearch-local: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (needed: $2)"; }

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

# A pid belongs to us when it is alive and its command line names this state dir.
ours() {
    local pid="$1"
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-Dsearchapp.opensearch.state=$STATE "
}

# Prints "node-dir pid" for each node with a pid file; drops pid files of dead processes.
running_nodes() {
    local pidfile pid
    for pidfile in "$STATE"/node-*/pid; do
        [ -e "$pidfile" ] || continue
        pid="$(cat "$pidfile")"
        if ours "$pid"; then
            echo "$(dirname "$pidfile") $pid"
        else
            rm -f "$pidfile"
        fi
    done
}

# Alive: not gone and not a zombie. Right after the start the pid may still be the shell that is about
# to exec java, so waiting uses this, not `ours`.
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The classpath of the pom's jars and the compiled launcher, made once per version of the sources.
prepare_classpath() {
    local key dir log
    key="$(cat "$SRC/pom.xml" "$SRC/LocalNode.java" | sha256sum | cut -c1-16)"
    dir="$CACHE_ROOT/$key"
    CLASSPATH_FILE="$dir/classpath.txt"
    CLASSES="$dir/classes"
    if [ -s "$CLASSPATH_FILE" ] && [ -e "$CLASSES/LocalNode.class" ] && jars_present "$CLASSPATH_FILE"; then
        return
    fi
    need mvn "to fetch the OpenSearch jars from Maven Central on first use"
    need javac "to compile scripts/opensearch/LocalNode.java"
    mkdir -p "$dir"
    log="$dir/mvn.log"
    echo "opensearch-local: resolving the OpenSearch jars with Maven (once; log: $log)" >&2
    local goal="org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath"
    # Offline first: after the first run everything is in ~/.m2 and no registry is asked.
    if ! mvn -o -B -q -f "$SRC/pom.xml" "$goal" "-Dmdep.outputFile=$CLASSPATH_FILE" >"$log" 2>&1; then
        mvn -B -q -f "$SRC/pom.xml" "$goal" "-Dmdep.outputFile=$CLASSPATH_FILE" >"$log" 2>&1 \
            || { tail -n 30 "$log" >&2; die "Maven could not resolve the OpenSearch jars (log: $log)"; }
    fi
    rm -rf "$CLASSES"
    javac -d "$CLASSES" -cp "$(cat "$CLASSPATH_FILE")" "$SRC/LocalNode.java" \
        || die "could not compile $SRC/LocalNode.java"
}

jars_present() {
    local jar
    IFS=: read -r -a jars <"$1"
    for jar in "${jars[@]}"; do [ -e "$jar" ] || return 1; done
}

start_node() {
    local i="$1" nodes="$2" http="$3" transport="$4" seeds="$5" managers="$6" processors="$7"
    local dir="$STATE/node-$i"
    mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
    cp "$SRC/log4j2.properties" "$dir/config/"
    # setsid: the node outlives this script and ignores the terminal's Ctrl-C.
    setsid java \
        "-Dsearchapp.opensearch.state=$STATE" \
        "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
        "-Djava.io.tmpdir=$dir/tmp" -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djna.nosys=true \
        -Dlog4j2.disable.jmx=true -Dlog4j.shutdownHookEnabled=false \
        -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
        -cp "$CLASSES:$(cat "$CLASSPATH_FILE")" LocalNode "$dir/config" \
        "cluster.name=$CLUSTER" "node.name=node-$i" \
        "path.home=$dir" "path.data=$dir/data" "path.logs=$dir/logs" \
        network.host=127.0.0.1 "http.port=$http" "transport.port=$transport" \
        "discovery.seed_hosts=$seeds" "cluster.initial_cluster_manager_nodes=$managers" \
        "node.processors=$processors" \
        cluster.routing.allocation.disk.threshold_enabled=false \
        </dev/null >"$dir/logs/node.log" 2>&1 &
    echo $! >"$dir/pid"
}

# Waits until the cluster is green with all its nodes; fails early when a node dies.
wait_green() {
    local nodes="$1" http="$2" deadline=$((SECONDS + TIMEOUT)) dir pid
    local url="http://127.0.0.1:$http/_cluster/health?wait_for_status=green&wait_for_nodes=$nodes&timeout=1s"
    while [ "$SECONDS" -lt "$deadline" ]; do
        if curl -fs -o /dev/null --max-time 5 "$url"; then return 0; fi
        for ((i = 1; i <= nodes; i++)); do
            dir="$STATE/node-$i"
            pid="$(cat "$dir/pid")"
            if ! alive "$pid"; then
                echo "opensearch-local: node-$i (pid $pid) exited; the end of $dir/logs/node.log:" >&2
                tail -n 40 "$dir/logs/node.log" >&2
                stop_all >&2
                exit 1
            fi
        done
        sleep 1
    done
    stop_all >&2
    die "the cluster was not green with $nodes nodes after ${TIMEOUT}s (logs: $STATE/node-*/logs/node.log)"
}

print_nodes() {
    local dir pid
    running_nodes | while read -r dir pid; do
        echo "$(basename "$dir") http://127.0.0.1:$(cat "$dir/http-port") pid $pid"
    done
}

cmd_start() {
    local nodes=1 http=9200 transport="" fresh=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --nodes) nodes="${2:?--nodes needs a number}"; shift 2 ;;
            --http-port) http="${2:?--http-port needs a port}"; shift 2 ;;
            --transport-port) transport="${2:?--transport-port needs a port}"; shift 2 ;;
            --fresh) fresh=1; shift ;;
            *) usage ;;
        esac
    done
    [[ "$nodes" =~ ^[1-9]$ ]] || die "--nodes takes 1 to 9, not '$nodes'"
    [[ "$http" =~ ^[0-9]+$ ]] || die "--http-port takes a number, not '$http'"
    transport="${transport:-$((http + 100))}"
    [[ "$transport" =~ ^[0-9]+$ ]] || die "--transport-port takes a number, not '$transport'"
    need java "to run OpenSearch"
    need curl "to wait for the cluster"
    need setsid "to detach the nodes"
    [ -z "$(running_nodes)" ] || die "already running in $STATE (stop it first):$(echo; print_nodes)"

    mkdir -p "$STATE"
    if [ "$fresh" = 1 ]; then rm -rf "$STATE"/node-*; fi
    if [ -e "$STATE/nodes" ] && [ "$(cat "$STATE/nodes")" != "$nodes" ] && compgen -G "$STATE/node-*/data/*" >/dev/null; then
        die "the data in $STATE is of a $(cat "$STATE/nodes")-node cluster; start with --fresh to delete it"
    fi
    local i port seeds="" managers=""
    for ((i = 0; i < nodes; i++)); do
        for port in $((http + i)) $((transport + i)); do
            ! port_in_use "$port" || die "port $port on 127.0.0.1 is in use (choose others with --http-port/--transport-port)"
        done
        seeds="${seeds:+$seeds,}127.0.0.1:$((transport + i))"
        managers="${managers:+$managers,}node-$((i + 1))"
    done
    prepare_classpath
    local cpus processors
    cpus="$(nproc)"
    processors=$((cpus / nodes > 0 ? cpus / nodes : 1))
    echo "$nodes" >"$STATE/nodes"
    for ((i = 1; i <= nodes; i++)); do
        start_node "$i" "$nodes" $((http + i - 1)) $((transport + i - 1)) "$seeds" "$managers" "$processors"
        echo $((http + i - 1)) >"$STATE/node-$i/http-port"
    done
    wait_green "$nodes" "$http"
    local urls=""
    for ((i = 0; i < nodes; i++)); do urls="${urls:+$urls,}http://127.0.0.1:$((http + i))"; done
    echo "$urls" >"$STATE/urls"
    print_nodes
}

stop_all() {
    local dir pid pids=() deadline
    while read -r dir pid; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
        echo "stopping $(basename "$dir") (pid $pid)"
    done < <(running_nodes)
    deadline=$((SECONDS + 30))
    for pid in "${pids[@]}"; do
        while ours "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if ours "$pid"; then
            echo "pid $pid did not stop in 30 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$STATE"/node-*/pid "$STATE/urls"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) stop_all ;;
    status) if [ -n "$(running_nodes)" ]; then print_nodes; else echo "not running ($STATE)"; exit 3; fi ;;
    *) usage ;;
esac
