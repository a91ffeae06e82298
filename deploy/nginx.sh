#!/bin/sh
# The Procfile's proxy: nginx in the foreground at PROXY_BIND (127.0.0.1:8000), routing /api/v1/events to
# the streaming processes at STREAMS_BIND (127.0.0.1:8002) and the rest to the API at API_BIND
# (127.0.0.1:8001). deploy/nginx.conf with those addresses, under instance/nginx: no root, nothing in /etc.
set -eu
cd "$(dirname "$0")/.."
PATH="$PATH:/usr/sbin"
command -v nginx >/dev/null || { echo "deploy/nginx.sh: nginx is not installed: run make /usr/sbin/nginx" >&2; exit 1; }
prefix="$PWD/instance/nginx"
mkdir -p "$prefix/logs" "$prefix/temp"
sed -e "s|@PROXY_BIND@|${PROXY_BIND:-127.0.0.1:8000}|g" -e "s|@API_BIND@|${API_BIND:-127.0.0.1:8001}|g" \
    -e "s|@STREAMS_BIND@|${STREAMS_BIND:-127.0.0.1:8002}|g" deploy/nginx.conf > "$prefix/nginx.conf"
echo "deploy/nginx.sh: Agora at http://${PROXY_BIND:-127.0.0.1:8000}"
exec nginx -e stderr -p "$prefix/" -c "$prefix/nginx.conf" -g "daemon off;"
