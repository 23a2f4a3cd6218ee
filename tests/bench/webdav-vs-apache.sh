#!/usr/bin/env bash
# WebDAV side by side (DESIGN §6: "at least as fast as Apache httpd
# mod_dav_fs on the same disk and client"): the same tree copied up, then
# down, with rclone, to Apache + mod_dav_fs (Basic auth) and to a real
# passerelle-internal node, on loopback, in one temporary directory. Prints
# the times and Passerelle's ratio (Apache time / Passerelle time: above 1
# means Passerelle is faster).
#
# Usage: tests/bench/webdav-vs-apache.sh [PASSERELLE_BINARY]
#   SMALL=1000 LARGE_MB=256 TRANSFERS=4 (environment) size the tree.
# Needs: apache2 (mod_dav_fs), apache2-utils (htpasswd), rclone; run as root
# (Apache's worker user www-data gets the served directory).
set -euo pipefail

BIN=$(realpath "${1:-target/release/passerelle-internal}")
SMALL=${SMALL:-1000}
LARGE_MB=${LARGE_MB:-256}
TRANSFERS=${TRANSFERS:-4}
PASSWORD="bench password 2026"
WORK=$(mktemp -d /var/tmp/webdav-bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  [ -f "$WORK/apache/httpd.pid" ] && kill "$(cat "$WORK/apache/httpd.pid")" 2>/dev/null || true
  [ -n "${NODE_PID:-}" ] && kill "$NODE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

echo "== tree: $SMALL small files in 10 folders + one file of $LARGE_MB MiB"
for i in $(seq 0 $((SMALL - 1))); do
  d="$WORK/src/lot-$((i % 10))"; mkdir -p "$d"
  head -c $((200 + (i * 37) % 20000)) /dev/urandom > "$d/piece-$i.txt"
done
head -c $((LARGE_MB * 1024 * 1024)) /dev/urandom > "$WORK/src/plans.bin"

echo "== Apache mod_dav_fs"
A="$WORK/apache"; mkdir -p "$A/root/bench" "$A/lock"; chown -R www-data:www-data "$A/root" "$A/lock"
htpasswd -bc "$A/htpasswd" bench "$PASSWORD" 2>/dev/null
APORT=$(free_port)
cat > "$A/httpd.conf" <<CONF
ServerRoot "/usr/lib/apache2"
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule authn_core_module modules/mod_authn_core.so
LoadModule authn_file_module modules/mod_authn_file.so
LoadModule auth_basic_module modules/mod_auth_basic.so
LoadModule authz_user_module modules/mod_authz_user.so
LoadModule dav_module modules/mod_dav.so
LoadModule dav_fs_module modules/mod_dav_fs.so
User www-data
Group www-data
Listen 127.0.0.1:$APORT
ServerName localhost
PidFile $A/httpd.pid
ErrorLog $A/error.log
DAVLockDB $A/lock/davlock
DocumentRoot $A/root
<Directory $A/root>
  Dav On
  AuthType Basic
  AuthName "bench"
  AuthUserFile $A/htpasswd
  Require valid-user
</Directory>
CONF
apache2 -f "$A/httpd.conf" -k start
sleep 1

echo "== Passerelle"
N="$WORK/node"; mkdir -p "$N"
NPORT=$(free_port)
(cd "$N" && PASSERELLE_ADMIN_PASSWORD="$PASSWORD" "$BIN" init >/dev/null \
  && "$BIN" space create --title Bench --manager admin bench >/dev/null)
(cd "$N" && exec "$BIN" serve --listen "127.0.0.1:$NPORT" >"$N/out" 2>"$N/log") &
NODE_PID=$!
for _ in $(seq 1 100); do grep -q "listening" "$N/out" 2>/dev/null && break; sleep 0.1; done

OBS=$(rclone obscure "$PASSWORD")
apache_remote=":webdav,url='http://127.0.0.1:$APORT',vendor=other,user=bench,pass='$OBS':bench"
node_remote=":webdav,url='http://127.0.0.1:$NPORT/dav',vendor=other,user=admin,pass='$OBS':bench"

timed() { local t0; t0=$(now); timeout 1200 rclone --config /dev/null --retries 1 --transfers "$TRANSFERS" "$@" >>"$WORK/rclone.log" 2>&1 || { tail -20 "$WORK/rclone.log" >&2; exit 1; }; echo "$(now) - $t0" | bc; }

sync; a_up=$(timed copy "$WORK/src" "$apache_remote")
sync; p_up=$(timed copy "$WORK/src" "$node_remote")
sync; a_down=$(timed copy "$apache_remote" "$WORK/down-apache")
sync; p_down=$(timed copy "$node_remote" "$WORK/down-node")
diff -r "$WORK/src" "$WORK/down-node" >/dev/null && echo "Passerelle gave back the same tree"

printf '%-10s %10s %12s %8s\n' "" "Apache (s)" "Passerelle (s)" "ratio"
printf '%-10s %10.2f %12.2f %8.2f\n' upload "$a_up" "$p_up" "$(echo "$a_up / $p_up" | bc -l)"
printf '%-10s %10.2f %12.2f %8.2f\n' download "$a_down" "$p_down" "$(echo "$a_down / $p_down" | bc -l)"
