#!/usr/bin/env bash
# The vm suite, inside the stock Debian 12 guest (tests/vm/run.sh runs it from a fresh
# clone, as root): the README's first command as written, then what differs on a real
# host — cgroup v2 under systemd's delegation, a shared /, Debian's 6.1 kernel.
# Boot 1 ends by rebooting the guest; boot 2 checks that boot jails came back in order.
set -euo pipefail
boot=${JAILD_VM_BOOT:-1}
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { echo "not ok - $*"; echo "--- jaild's log:"; journalctl -u jaild -u jaild-jails --no-pager | tail -n 40; exit 1; }
# call METHOD PATH [BODY]: sets CODE and BODY
call() {
  local out
  out=$(curl -sS -H "Authorization: Bearer $(cat /var/lib/jaild/admin.token)" -X "$1" \
    "http://127.0.0.1:8080$2" ${3:+-d "$3"} -w '\n%{http_code}')
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
}
expect() { # CODE what
  [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, wanted $1: $BODY"
  ok "$2"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$BODY"; }
exec_in() { # JAIL COMMAND: sets BODY to the exec's JSON
  call POST "/api/jails/$1/exec" "$(python3 -c 'import json,sys; print(json.dumps({"command":["/bin/sh","-c",sys.argv[1]]}))' "$2")"
  [ "$CODE" = 200 ] || fail "exec in $1: HTTP $CODE: $BODY"
}
jails_cg=/sys/fs/cgroup/system.slice/jaild-jails.service
cg_of() { echo "$jails_cg"/jaild-*/"$1"; }
mounts() { awk '{print $5}' /proc/self/mountinfo | sort; }

if [ "$boot" = 1 ]; then
  echo "== Debian $(cat /etc/debian_version), kernel $(uname -r), $(systemctl --version | head -n 1)"
  findmnt -no FSTYPE /sys/fs/cgroup | grep -qx cgroup2 || fail "the guest is not on cgroup v2"
  [ "$(findmnt -no PROPAGATION /)" = shared ] || fail "the guest's / is not shared, as systemd makes it"
  ok "stock host: cgroup v2 only, / shared"

  echo "== the README's first command"
  bash deploy/setup.sh || fail "bash deploy/setup.sh"
  systemctl is-active --quiet jaild jaild-jails || fail "the units are not active"
  ok "setup.sh installed and started jaild.service and jaild-jails.service"
  # (systemd itself enables controllers down to a delegated unit: the root's
  # subtree_control may change, by systemd's hand; jaild writes only below its units)
  grep -q "^0::/system.slice/jaild.service" "/proc/$(systemctl show -p MainPID --value jaild)/cgroup" ||
    fail "jaild is not in its unit's group"
  journalctl -u jaild --no-pager | grep -q "cgroup v2 under /system.slice/jaild-jails.service/jaild-" ||
    fail "the helper did not take the delegated group"
  [ ! -e /sys/fs/cgroup/jaild-* ] || fail "a jaild group at the root: $(ls -d /sys/fs/cgroup/jaild-*)"
  ok "jaild runs in its unit; jails go to the delegated jaild-jails.service, nothing at the root"

  curl -sf http://127.0.0.1:8080/ | grep -q "<title>" || fail "the web console is not served (a clone in /root)"
  ok "the web console is served from the clone in /root"

  echo "== limits in cgroup v2"
  call POST '/api/jails?start=1' '{"name":"web1","ip4":["auto"],"limits":{"maxproc":64,"memoryuse":"256M","pcpu":50}}'
  expect 201 "create and start web1"
  d=$(cg_of web1)
  [ -d "$d" ] || fail "web1's group is not under the delegated jaild-jails.service: $(find /sys/fs/cgroup -name web1)"
  [ "$(cat "$d/pids.max")" = 64 ] && [ "$(cat "$d/memory.max")" = 268435456 ] && [ "$(cat "$d/cpu.max")" = "5000 10000" ] ||
    fail "web1's limits: pids.max $(cat "$d/pids.max"), memory.max $(cat "$d/memory.max"), cpu.max $(cat "$d/cpu.max")"
  ok "pids.max, memory.max and cpu.max set in the delegated subtree"
  pid1=$(field 'd["pid"]')
  grep -q "jaild-jails.service/jaild-.*/web1$" "/proc/$pid1/cgroup" || fail "PID 1 is not in web1's group"
  ok "PID 1 started in web1's group (CLONE_INTO_CGROUP)"
  exec_in web1 'id -u; hostname; cat /proc/1/cmdline | tr "\0" " "'
  [ "$(field 'd["stdout"].split()[0]')" = 0 ] || fail "exec: $BODY"
  ok "exec as the jail's root"
  call PATCH /api/jails/web1 '{"limits":{"maxproc":32,"memoryuse":"256M","pcpu":50}}'
  expect 200 "PATCH a running jail's limits"
  [ "$(cat "$d/pids.max")" = 32 ] || fail "pids.max after PATCH: $(cat "$d/pids.max")"
  ok "the PATCH reached pids.max"
  call POST '/api/jails?start=1' '{"name":"oom","limits":{"memoryuse":"32M","maxproc":16}}'
  expect 201 "create a 32M jail"
  exec_in oom 'head -c 200000000 /dev/zero | tail > /dev/null; echo rc=$?'
  [ "$(cat "$(cg_of oom)/memory.events" | awk '/^oom_kill /{print $2}')" -ge 1 ] || fail "no OOM kill in a 32M jail: $BODY"
  ok "memory.max enforced (OOM kill counted in memory.events)"
  exec_in oom 'for i in $(seq 40); do sleep 5 & done 2>/dev/null; wait; echo done'
  [ "$(awk '/^max /{print $2}' "$(cg_of oom)/pids.events")" -ge 1 ] || fail "pids.max not enforced: $BODY"
  ok "pids.max enforced (pids.events)"
  call DELETE '/api/jails/oom?force=1'; expect 204 "destroy a running jail"
  [ ! -e "$(cg_of oom)" ] || fail "oom's group is left after destroy"
  ok "no group left after destroy"

  echo "== thick jails, and a failed start leaves the host's mounts as they were"
  before=$(mounts)
  call POST '/api/jails?start=1' '{"name":"thick1","type":"thick"}'
  expect 201 "create and start a thick jail (pivot_root under a shared /)"
  exec_in thick1 'echo thick-ok'
  [ "$(field 'd["stdout"].strip()')" = thick-ok ] || fail "exec in thick1: $BODY"
  ok "exec in the thick jail"
  call POST /api/jails '{"name":"bad","type":"thick","command":["/no/such/program"]}'
  expect 201 "create a jail whose command does not exist"
  call POST /api/jails/bad/start
  [ "${CODE:0:1}" = 4 ] || [ "${CODE:0:1}" = 5 ] || fail "starting bad answered $CODE"
  ok "its start fails ($CODE)"
  call DELETE /api/jails/bad; expect 204 "destroy the jail whose start failed"
  call POST /api/jails/thick1/stop; expect 200 "stop thick1"
  call DELETE /api/jails/thick1; expect 204 "destroy thick1"
  [ "$(mounts)" = "$before" ] || fail "the host's mount table changed: $(diff <(echo "$before") <(mounts))"
  ok "the host's mount table is as it was"

  echo "== snapshots, disks, consoles"
  exec_in web1 'echo v1 > /root/f'
  call POST /api/jails/web1/snapshots '{"name":"s1"}'; expect 201 "snapshot"
  exec_in web1 'echo v2 > /root/f'
  call POST /api/jails/web1/snapshots/s1/restore; expect 200 "restore"
  exec_in web1 'cat /root/f'
  [ "$(field 'd["stdout"].strip()')" = v1 ] || fail "after restore: $BODY"
  ok "the snapshot round trip gives back v1"
  call POST '/api/jails?start=1' '{"name":"disk1","limits":{"disk":"64M"}}'; expect 201 "a jail with a 64M disk"
  exec_in disk1 'dd if=/dev/zero of=/root/fill bs=1M count=200 2>&1; echo rc=$?'
  grep -q "No space left on device" <<<"$BODY" || fail "no ENOSPC: $BODY"
  ok "filling the disk is ENOSPC inside"
  call DELETE '/api/jails/disk1?force=1'; expect 204 "destroy disk1"
  out=$(printf 'echo console-$((6*7))\nexit\n' | JAILD_TOKEN=$(cat /var/lib/jaild/admin.token) JAILD_URL=http://127.0.0.1:8080 \
    timeout 60 jailctl console web1 2>&1) || fail "jailctl console: $out"
  grep -q console-42 <<<"$out" || fail "the console did not answer: $out"
  ok "a console shell"

  echo "== systemctl restart adopts running jails"
  call GET /api/jails/web1; pid_before=$(field 'd["pid"]')
  systemctl restart jaild || fail "systemctl restart jaild: $(systemctl status jaild --no-pager)"
  for _ in $(seq 300); do curl -sf http://127.0.0.1:8080/api/health >/dev/null && break; sleep 0.1; done
  call GET /api/jails/web1
  [ "$(field 'd["state"]')" = running ] && [ "$(field 'd["pid"]')" = "$pid_before" ] || fail "after restart: $BODY"
  exec_in web1 'echo still-here'
  ok "web1 runs on, the same PID 1, and takes execs after the restart"
  ! systemctl status jaild --no-pager | grep -q "left-over" || fail "systemd found left-over processes"
  ok "no left-over process in jaild.service"

  echo "== boot jails, then a reboot"
  call POST /api/jails '{"name":"late","boot":true,"priority":20}'; expect 201 "boot jail late (priority 20)"
  call POST /api/jails '{"name":"early","boot":true,"priority":10}'; expect 201 "boot jail early (priority 10)"
  echo "$checks" > /var/lib/jaild-vm-checks
  touch "$JAILD_VM_OUT/reboot"
  exit 100
fi

checks=$(cat /var/lib/jaild-vm-checks)
echo "== boot $boot: jaild came up with the system"
for _ in $(seq 600); do curl -sf http://127.0.0.1:8080/api/health >/dev/null && break; sleep 0.1; done
systemctl is-active --quiet jaild || fail "jaild is not active after the reboot"
ok "jaild.service started at boot"
for _ in $(seq 300); do
  call GET /api/jails/late
  [ "$(field 'd["state"]')" = running ] && break
  sleep 0.2
done
call GET /api/jails/early; early=$(field 'd["pid"]'); [ "$(field 'd["state"]')" = running ] || fail "early: $BODY"
call GET /api/jails/late; late=$(field 'd["pid"]'); [ "$(field 'd["state"]')" = running ] || fail "late: $BODY"
ok "both boot jails run"
[ "$early" -lt "$late" ] || fail "late (pid $late) started before early (pid $early)"
ok "in priority order (early before late)"
call GET /api/jails/web1
[ "$(field 'd["state"]')" = stopped ] || fail "web1 (not a boot jail) after the reboot: $BODY"
ok "a jail without boot stays stopped"
exec_in early 'echo up'
ok "exec in a boot jail"
echo "vm smoke: $checks passed, 0 failed"
