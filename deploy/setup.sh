#!/usr/bin/env bash
# Set up and start jaild on a fresh Debian 12 machine, as root: packages, build, and
# jaild on its embedded default (SQLite in /var/lib/jaild, the minimal busybox
# template): under systemd by its units (installed to /usr/local and /etc/jaild), on a
# host without systemd in the background. Prints a curl line that creates and starts a jail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh
# the web console's xterm.js, pinned by web/package-lock.json
(cd web && npm ci --no-audit --no-fund --loglevel=error)
[ -d build ] || meson setup build --buildtype=debugoptimized
meson compile -C build
data=${JAILD_DATA_DIR:-/var/lib/jaild}
listen=${JAILD_LISTEN:-127.0.0.1:8080}
if [ -d /run/systemd/system ]; then
  # a systemd host: installed, configured and run by its units (jaild-jails.service
  # holds the cgroup subtree delegated to jaild for jails; jaild.service runs jaild)
  meson install -C build --quiet
  install -m 0644 deploy/jaild.service deploy/jaild-jails.service /etc/systemd/system/
  install -D -m 0644 deploy/jailctl.1 /usr/local/share/man/man1/jailctl.1
  install -D -m 0644 deploy/jailctl.bash-completion /usr/local/share/bash-completion/completions/jailctl
  if [ ! -f /etc/jaild/jaild.conf ]; then
    install -d -m 0755 /etc/jaild
    sed -e "s|^listen = .*|listen = $listen|" -e "s|^data-dir = .*|data-dir = $data|" \
      deploy/jaild.conf.example > /etc/jaild/jaild.conf
  fi
  systemctl daemon-reload
  systemctl enable --quiet jaild-jails.service jaild.service
  systemctl restart jaild.service # a restart adopts running jails
  log="journalctl -u jaild"
elif pgrep -x jaild >/dev/null; then
  echo "jaild is already running; stop it first (pkill -x jaild) to restart it"
  log=/var/log/jaild.log
else
  nohup build/server/jaild --data-dir "$data" --listen "$listen" >>/var/log/jaild.log 2>&1 &
  log=/var/log/jaild.log
fi
for _ in $(seq 100); do
  curl -sf "http://$listen/api/health" >/dev/null && [ -s "$data/admin.token" ] && break
  sleep 0.1
done
curl -sf "http://$listen/api/health" >/dev/null || { echo "jaild did not start; see $log"; exit 1; }
echo "jaild is running on http://$listen (log: $log, admin token: $data/admin.token)"
echo "Web console: http://$listen/ (log in with the admin token, or a tenant user)"
echo "Create and start a jail:"
echo "  curl -s -H \"Authorization: Bearer \$(cat $data/admin.token)\" -X POST 'http://$listen/api/jails?start=1' -d '{\"name\":\"web1\",\"ip4\":[\"auto\"]}'"
