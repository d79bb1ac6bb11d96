#!/usr/bin/python3
"""Stand-in for systemd inside one rehearsal test host.

A rehearsal host has no systemd as PID 1, so this file plays three roles:

* ``systemd.py boot CONFIG`` runs as PID 1 of the host's PID namespace: it mounts the host's file system
  view (overlays, data disk, /run, /tmp), installs itself as ``/usr/bin/systemctl`` and
  ``/usr/bin/journalctl``, creates the tmpfiles.d directories of /run and /var/log, and then manages
  units: it starts services as their ``User=`` (keeping the real PID), restarts them per ``Restart=``,
  runs ``.timer`` units, reaps orphans, and serves ``systemctl`` requests on a Unix socket.
  When it is killed, the kernel kills every process of the host: that is a machine crash.
* ``systemctl ...`` (this file installed under that name) talks to PID 1.
* ``journalctl -u UNIT`` prints the unit's log (``/var/log/standin/UNIT.log``).

Only Python's standard library is used: it runs on the host's own /usr/bin/python3 (cloud-init needs it).
Environment overrides (for tests outside a host): STANDIN_UNIT_PATHS (colon list), STANDIN_RUN_DIR,
STANDIN_LOG_DIR.
"""
import collections
import errno
import glob
import grp
import json
import os
import pwd
import re
import resource
import shlex
import shutil
import signal
import socket
import sys
import threading
import time

UNIT_PATHS = os.environ.get(
    'STANDIN_UNIT_PATHS', '/etc/systemd/system:/run/systemd/system:/lib/systemd/system:/usr/lib/systemd/system',
).split(':')
RUN_DIR = os.environ.get('STANDIN_RUN_DIR', '/run/systemd')
LOG_DIR = os.environ.get('STANDIN_LOG_DIR', '/var/log/standin')
CONTROL_SOCKET = os.path.join(RUN_DIR, 'standin.sock')
ETC_UNITS = UNIT_PATHS[0]
BASE_ENV = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C.UTF-8'}
# Targets whose enabled units a (re)booted machine starts.
BOOT_TARGETS = ('sysinit.target', 'multi-user.target', 'default.target', 'timers.target')
CLEAN_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)

SPAN_UNITS = {
    'us': 1e-6, 'usec': 1e-6, 'ms': 1e-3, 'msec': 1e-3, '': 1, 's': 1, 'sec': 1, 'second': 1, 'seconds': 1,
    'm': 60, 'min': 60, 'minute': 60, 'minutes': 60, 'h': 3600, 'hr': 3600, 'hour': 3600, 'hours': 3600,
    'd': 86400, 'day': 86400, 'days': 86400, 'w': 604800, 'week': 604800, 'weeks': 604800,
}
CALENDAR_SHORTHANDS = {'minutely': 60, 'hourly': 3600, 'daily': 86400, 'weekly': 604800}


def parse_span(value, default=None):
    """systemd time span ("90", "5s", "1min 30s", "500ms", "infinity") in seconds; None = infinity."""
    value = (value or '').strip()
    if not value:
        return default
    if value == 'infinity':
        return None
    total = 0.0
    for number, unit in re.findall(r'(\d+(?:\.\d+)?)\s*([a-z]*)', value):
        if unit not in SPAN_UNITS:
            raise ValueError('bad time span %r' % value)
        total += float(number) * SPAN_UNITS[unit]
    return total


def parse_bool(value, default=False):
    if value is None or value == '':
        return default
    return value.strip().lower() in ('1', 'yes', 'true', 'on')


def parse_unit_text(text, sections):
    """Merge one unit file or drop-in into sections: {section: {key: [values]}}; an empty value resets the list."""
    section = None
    logical = ''
    for raw in text.splitlines():
        line = raw.rstrip()
        if logical:
            line = logical + ' ' + line.lstrip()
            logical = ''
        if line.endswith('\\'):
            logical = line[:-1]
            continue
        stripped = line.strip()
        if not stripped or stripped[0] in '#;':
            continue
        if stripped.startswith('[') and stripped.endswith(']'):
            section = sections.setdefault(stripped[1:-1], {})
            continue
        if section is None or '=' not in stripped:
            continue
        key, value = stripped.split('=', 1)
        key, value = key.strip(), value.strip()
        if value == '':
            section[key] = []
        else:
            section.setdefault(key, []).append(value)
    return sections


def split_name(name):
    """'foo@bar.service' -> ('foo', 'bar', 'service'); 'foo.timer' -> ('foo', None, 'timer')."""
    base, _, kind = name.rpartition('.')
    if '@' in base:
        prefix, instance = base.split('@', 1)
        return prefix, instance, kind
    return base, None, kind


def normalize_name(name):
    """Adds `.service` when no unit type is given and resolves alias symlinks (etcd2.service -> etcd.service)."""
    name = _with_suffix(name)
    for dir_ in UNIT_PATHS:
        path = os.path.join(dir_, name)
        if os.path.islink(path):
            target = os.readlink(path)
            if target != '/dev/null' and os.path.basename(target) != name and '.' in os.path.basename(target):
                return os.path.basename(target)
    return name


def _with_suffix(name):
    if '.' not in name.rsplit('/', 1)[-1] or name.rsplit('.', 1)[-1] not in (
            'service', 'timer', 'target', 'socket', 'mount', 'path', 'slice', 'scope', 'device', 'automount', 'swap'):
        return name + '.service'
    return name


class Unit(object):
    def __init__(self, name, path, sections, masked=False):
        self.name = name
        self.path = path
        self.sections = sections
        self.masked = masked
        self.prefix, self.instance, self.kind = split_name(name)

    def values(self, section, key):
        return self.sections.get(section, {}).get(key, [])

    def get(self, section, key, default=None):
        values = self.values(section, key)
        return values[-1] if values else default

    def words(self, section, key):
        return [w for v in self.values(section, key) for w in v.split()]

    def specifiers(self, text):
        prefix = self.prefix
        instance = self.instance or ''
        table = {
            'n': self.name, 'N': self.name.rsplit('.', 1)[0], 'p': prefix, 'P': prefix, 'i': instance,
            'I': instance.replace('-', '/'), 'H': socket.gethostname(), 'l': socket.gethostname().split('.')[0],
            't': '/run', 'S': '/var/lib', 'L': '/var/log', 'C': '/var/cache', 'E': '/etc', 'T': '/tmp', 'V': '/var/tmp',
            'h': '/root', 'u': 'root', '%': '%',
        }
        return re.sub(r'%(.)', lambda m: table.get(m.group(1), m.group(0)), text)


def find_unit(name):
    """Loads a unit with its drop-ins; None when no file exists."""
    prefix, instance, kind = split_name(name)
    candidates = [name] + (['%s@.%s' % (prefix, kind)] if instance is not None else [])
    for dir_ in UNIT_PATHS:
        path = os.path.join(dir_, name)
        if os.path.islink(path) and os.readlink(path) == '/dev/null':
            return Unit(name, path, {}, masked=True)
    fragment = None
    for candidate in candidates:
        for dir_ in UNIT_PATHS:
            path = os.path.join(dir_, candidate)
            if os.path.isfile(path):
                fragment = path
                break
        if fragment:
            break
    if fragment is None:
        return None
    if os.path.getsize(fragment) == 0:
        return Unit(name, fragment, {}, masked=True)
    sections = {}
    with open(fragment) as f:
        parse_unit_text(f.read(), sections)
    dropins = {}
    for candidate in reversed(candidates):
        for dir_ in reversed(UNIT_PATHS):
            for conf in glob.glob(os.path.join(dir_, candidate + '.d', '*.conf')):
                dropins[os.path.basename(conf)] = conf
    for key in sorted(dropins):
        with open(dropins[key]) as f:
            parse_unit_text(f.read(), sections)
    return Unit(name, fragment, sections)


def split_command(line):
    """Exec line -> (flags, argv words with `$VAR` marked) per systemd.service(5) "Command lines"."""
    flags = ''
    while line and line[0] in '-@+!:':
        flags += line[0]
        line = line[1:]
    return flags, shlex.split(line, posix=True)


def expand_command(words, env):
    out = []
    for word in words:
        whole = re.fullmatch(r'\$([A-Za-z_][A-Za-z0-9_]*)', word)
        if whole:
            out.extend(env.get(whole.group(1), '').split())
            continue
        out.append(re.sub(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}', lambda m: env.get(m.group(1), ''), word))
    return out


def parse_environment_line(value):
    out = {}
    for item in shlex.split(value, posix=True):
        if '=' in item:
            k, v = item.split('=', 1)
            out[k] = v
    return out


def read_environment_file(path):
    out = {}
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in '#;' or '=' not in line:
                continue
            k, v = line.split('=', 1)
            k = k.strip()
            if k.startswith('export '):
                k = k[7:].strip()
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in '"\'':
                v = v[1:-1]
            out[k] = v
    return out


def process_table():
    """{pid: (ppid, sid)} of every process this PID namespace's /proc shows."""
    table = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(')') + 2:].split()
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def alive(pid):
    if not pid:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
        return stat[stat.rfind(')') + 2] != 'Z'
    except OSError:
        return False


class Runtime(object):
    def __init__(self):
        self.state = 'inactive'
        self.sub = 'dead'
        self.main_pid = 0
        self.sid = 0
        self.control_pid = 0
        self.result = 'success'
        self.start_times = collections.deque()
        self.last_active = None
        self.last_inactive = None
        self.activated_at = None
        self.stop_requested = False
        self.thread = None
        self.last_trigger = None
        self.generation = 0


class Manager(object):
    def __init__(self):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.children = {}
        self.units = {}
        self.boot_time = time.monotonic()
        self.maxfd = 4096

    # ---------- processes ----------
    def spawn(self, argv, unit, user=None, group=None, env=None, cwd=None, setsid=True, log=None):
        """fork + exec as User/Group keeping the real PID; stdout/stderr go to the unit's log."""
        env = dict(env or {})
        path = argv[0] if argv[0].startswith('/') else shutil.which(argv[0], path=env.get('PATH', BASE_ENV['PATH']))
        if not path:
            raise OSError(errno.ENOENT, 'executable not found: %s' % argv[0])
        uid = gid = None
        groups = []
        if user:
            pw = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
            uid, gid = pw.pw_uid, pw.pw_gid
            groups = os.getgrouplist(pw.pw_name, gid)
        if group:
            gid = grp.getgrnam(group).gr_gid if not group.isdigit() else int(group)
            if uid is None:
                groups = [gid]
        limits = []
        nofile = unit.get('Service', 'LimitNOFILE') if unit else None
        if nofile:
            soft, _, hard = nofile.partition(':')
            soft, hard = int(soft), int(hard or soft)
            # systemd (PID 1) may raise the hard limit; this host's root may lack CAP_SYS_RESOURCE: stay within it.
            current_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            if current_hard != resource.RLIM_INFINITY and hard > current_hard:
                try:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard))
                except (ValueError, OSError):
                    self.note(unit, 'LimitNOFILE=%s: hard limit here is %d, using that' % (nofile, current_hard))
                    hard = current_hard
                    soft = min(soft, hard)
            limits.append((resource.RLIMIT_NOFILE, soft, hard))
        umask = int(unit.get('Service', 'UMask', '0022'), 8) if unit else 0o022
        logfd = os.open(log or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        with self.lock:
            pid = os.fork()
            if pid == 0:
                try:
                    if setsid:
                        os.setsid()
                    null = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(null, 0)
                    os.dup2(logfd, 1)
                    os.dup2(logfd, 2)
                    os.closerange(3, self.maxfd)
                    for res, soft, hard in limits:
                        resource.setrlimit(res, (soft, hard))
                    if gid is not None:
                        os.setgroups(groups)
                        os.setgid(gid)
                    if uid is not None:
                        os.setuid(uid)
                    if cwd:
                        os.chdir(cwd)
                    os.umask(umask)
                    os.execve(path, argv, env)
                except BaseException as e:  # noqa: B902 - the child must never return into the manager
                    try:
                        os.write(2, ('standin: cannot run %s: %s\n' % (argv[0], e)).encode())
                    finally:
                        os._exit(203)
            self.children[pid] = None
        os.close(logfd)
        return pid

    def reaper(self):
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.1)
                continue
            except InterruptedError:
                continue
            with self.cond:
                if pid in self.children:
                    self.children[pid] = status
                    self.cond.notify_all()

    def wait_pid(self, pid, timeout=None):
        """Exit status of a spawned child, or None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while self.children.get(pid) is None:
                if pid not in self.children:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self.cond.wait(remaining if remaining is not None else 1.0)
            return self.children.pop(pid)

    def unit_processes(self, rt):
        """The main process, everything in its session, and all their descendants."""
        if not rt.main_pid:
            return []
        table = process_table()
        members = {p for p, (_, sid) in table.items() if sid == rt.main_pid}
        members.add(rt.main_pid)
        changed = True
        while changed:
            changed = False
            for p, (ppid, _) in table.items():
                if ppid in members and p not in members:
                    members.add(p)
                    changed = True
        return [p for p in members if p in table and p != os.getpid()]

    @staticmethod
    def kill(pids, sig):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass

    # ---------- units ----------
    def runtime(self, name):
        with self.lock:
            return self.units.setdefault(name, Runtime())

    def set_state(self, rt, state, sub):
        with self.cond:
            rt.state, rt.sub = state, sub
            now = time.monotonic()
            if state == 'active':
                rt.last_active = now
            elif state in ('inactive', 'failed'):
                rt.last_inactive = now
            self.cond.notify_all()

    def unit_env(self, unit):
        env = dict(BASE_ENV)
        user = unit.get('Service', 'User')
        if user:
            pw = pwd.getpwnam(user)
            env.update({'HOME': pw.pw_dir, 'USER': pw.pw_name, 'LOGNAME': pw.pw_name, 'SHELL': pw.pw_shell})
        env['INVOCATION_ID'] = os.urandom(16).hex()
        for value in unit.values('Service', 'Environment'):
            env.update(parse_environment_line(unit.specifiers(value)))
        for value in unit.values('Service', 'EnvironmentFile'):
            optional = value.startswith('-')
            path = unit.specifiers(value.lstrip('-'))
            try:
                env.update(read_environment_file(path))
            except OSError:
                if not optional:
                    raise
        return env

    def log_path(self, unit):
        out = unit.get('Service', 'StandardOutput', '')
        for prefix in ('append:', 'file:'):
            if out.startswith(prefix):
                return unit.specifiers(out[len(prefix):])
        return os.path.join(LOG_DIR, unit.name + '.log')

    def note(self, unit, message):
        with open(os.path.join(LOG_DIR, unit.name + '.log'), 'a') as f:
            f.write('%s standin: %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S'), message))

    def run_command(self, unit, line, env, privileged=False, timeout=None, rt=None):
        """Runs one Exec*= line to completion; returns (ok, status)."""
        flags, words = split_command(unit.specifiers(line))
        argv = expand_command(words, env)
        if '@' in flags and len(argv) > 1:
            argv = [argv[0]] + argv[2:]
        root = privileged or '+' in flags or '!' in flags
        user = None if root else unit.get('Service', 'User')
        group = None if root else unit.get('Service', 'Group')
        try:
            pid = self.spawn(argv, unit, user, group, env, self.working_dir(unit), log=self.log_path(unit))
        except OSError as e:
            self.note(unit, 'cannot run %s: %s' % (argv[0], e))
            return '-' in flags, 203 << 8
        if rt is not None:
            rt.control_pid = pid
        status = self.wait_pid(pid, timeout)
        if rt is not None:
            rt.control_pid = 0
        if status is None:
            self.kill([pid], signal.SIGKILL)
            self.wait_pid(pid, 5)
            self.note(unit, '%s timed out' % argv[0])
            return '-' in flags, 9
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if not ok:
            self.note(unit, '%s failed: %s' % (argv[0], describe_status(status)))
        return ok or '-' in flags, status

    def working_dir(self, unit):
        wd = unit.get('Service', 'WorkingDirectory')
        if not wd:
            return '/'
        optional = wd.startswith('-')
        wd = wd.lstrip('-')
        if wd == '~':
            user = unit.get('Service', 'User')
            wd = pwd.getpwnam(user).pw_dir if user else '/root'
        wd = unit.specifiers(wd)
        if optional and not os.path.isdir(wd):
            return '/'
        return wd

    def prepare_directories(self, unit):
        user = unit.get('Service', 'User')
        group = unit.get('Service', 'Group')
        uid = pwd.getpwnam(user).pw_uid if user else 0
        gid = grp.getgrnam(group).gr_gid if group else (pwd.getpwnam(user).pw_gid if user else 0)
        for key, base in (('RuntimeDirectory', '/run'), ('StateDirectory', '/var/lib'), ('LogsDirectory', '/var/log'),
                          ('CacheDirectory', '/var/cache'), ('ConfigurationDirectory', '/etc')):
            mode = int(unit.get('Service', key + 'Mode', '0755'), 8)
            for name in unit.words('Service', key):
                path = os.path.join(base, unit.specifiers(name))
                os.makedirs(path, exist_ok=True)
                os.chmod(path, mode)
                os.chown(path, uid, gid)

    def check_conditions(self, unit):
        """(run, failed_assert): evaluates the Condition*/Assert* checks systemd would."""
        def test(key, arg):
            negate = arg.startswith('!')
            arg = unit.specifiers(arg.lstrip('!'))
            if key.endswith('PathExists'):
                result = os.path.exists(arg)
            elif key.endswith('PathIsDirectory'):
                result = os.path.isdir(arg)
            elif key.endswith('FileNotEmpty'):
                result = os.path.isfile(arg) and os.path.getsize(arg) > 0
            elif key.endswith('PathExistsGlob'):
                result = bool(glob.glob(arg))
            elif key.endswith('FileIsExecutable'):
                result = os.access(arg, os.X_OK)
            else:
                return True
            return result != negate
        unit_section = unit.sections.get('Unit', {})
        for key, values in unit_section.items():
            for value in values:
                if key.startswith('Assert') and not test(key, value):
                    return False, '%s=%s' % (key, value)
                if key.startswith('Condition') and not test(key, value):
                    return False, None
        return True, None

    def dependencies(self, unit):
        deps = []
        for key in ('Requires', 'Wants', 'BindsTo', 'Requisite'):
            for name in unit.words('Unit', key):
                deps.append((normalize_name(unit.specifiers(name)), key != 'Wants'))
        for suffix, required in (('.wants', False), ('.requires', True)):
            for dir_ in UNIT_PATHS:
                for link in sorted(glob.glob(os.path.join(dir_, unit.name + suffix, '*'))):
                    deps.append((os.path.basename(link), required))
        return deps

    def start(self, name, out, block=True, seen=None):
        seen = seen if seen is not None else set()
        if name in seen:
            return 0
        seen.add(name)
        unit = find_unit(name)
        if unit is None:
            out.err('Failed to start %s: Unit %s not found.' % (name, name))
            return 5
        if unit.masked:
            out.err('Failed to start %s: Unit %s is masked.' % (name, name))
            return 1
        for dep, required in self.dependencies(unit):
            if dep.endswith('.target') and dep in ('network.target', 'network-online.target', 'multi-user.target'):
                continue
            rc = self.start(dep, out, block, seen)
            if rc and required:
                out.err('A dependency job for %s failed.' % name)
                return 1
        rt = self.runtime(name)
        if unit.kind == 'timer':
            with self.lock:
                if rt.state != 'active':
                    rt.activated_at = time.monotonic()
                    rt.last_trigger = None
                    self.set_state(rt, 'active', 'waiting')
            return 0
        if unit.kind != 'service':
            self.set_state(rt, 'active', 'active')
            return 0
        with self.cond:
            if rt.state == 'deactivating':
                self.cond.wait_for(lambda: rt.state != 'deactivating', 120)
            if rt.state not in ('active', 'activating', 'reloading'):
                run, failed_assert = self.check_conditions(unit)
                if failed_assert:
                    out.err('Assertion failed on job for %s (%s).' % (name, failed_assert))
                    return 1
                if not run:
                    self.note(unit, 'condition check resulted in %s being skipped' % name)
                    return 0
                rt.stop_requested = False
                rt.result = 'success'
                rt.generation += 1
                rt.start_times.clear()
                self.set_state(rt, 'activating', 'start-pre')
                rt.thread = threading.Thread(target=self.service_lifecycle, args=(unit, rt, rt.generation), daemon=True)
                rt.thread.start()
            if not block:
                return 0
            timeout = parse_span(unit.get('Service', 'TimeoutStartSec', unit.get('Service', 'TimeoutSec')), 90.0)
            self.cond.wait_for(lambda: rt.state != 'activating' or rt.sub == 'auto-restart', timeout or None)
            if rt.state == 'active' or (rt.state == 'inactive' and rt.result == 'success'):
                return 0
        out.err('Job for %s failed because the control process exited with error code.\n'
                'See "journalctl -u %s" (%s) for details.' % (name, name, self.log_path(unit)))
        return 1

    def service_lifecycle(self, unit, rt, generation):
        """Start, supervise and restart one service until it stops for good."""
        kind = unit.get('Service', 'Type', 'simple' if unit.values('Service', 'ExecStart') else 'oneshot')
        restart = unit.get('Service', 'Restart', 'no')
        restart_sec = parse_span(unit.get('Service', 'RestartSec'), 0.1) or 0.1
        burst = int(unit.get('Unit', 'StartLimitBurst', unit.get('Service', 'StartLimitBurst', '5')))
        interval = parse_span(unit.get('Unit', 'StartLimitIntervalSec', unit.get('Service', 'StartLimitInterval')), 10.0) or 0
        while True:
            now = time.monotonic()
            rt.start_times.append(now)
            while rt.start_times and interval and now - rt.start_times[0] > interval:
                rt.start_times.popleft()
            if interval and burst and len(rt.start_times) > burst:
                self.note(unit, 'start request repeated too quickly, refusing to start')
                rt.result = 'start-limit-hit'
                self.set_state(rt, 'failed', 'failed')
                return
            status = self.activate(unit, rt, kind)
            if status == 'stopped' or rt.stop_requested or rt.generation != generation:
                return
            if status == 'done':
                return
            exit_status = status
            clean = exit_status is not None and (
                (os.WIFEXITED(exit_status) and os.WEXITSTATUS(exit_status) == 0)
                or (os.WIFSIGNALED(exit_status) and os.WTERMSIG(exit_status) in CLEAN_SIGNALS))
            signaled = exit_status is not None and os.WIFSIGNALED(exit_status) and not clean
            rt.main_pid = 0
            env = self.safe_env(unit)
            for line in unit.values('Service', 'ExecStopPost'):
                self.run_command(unit, line, env, parse_bool(unit.get('Service', 'PermissionsStartOnly')), 90)
            self.kill_leftovers(unit, rt)
            again = {
                'always': True, 'on-success': clean, 'on-failure': not clean, 'on-abnormal': signaled,
                'on-abort': signaled, 'on-watchdog': False, 'no': False,
            }.get(restart, False)
            self.note(unit, 'main process exited (%s)%s' % (describe_status(exit_status), ', restarting' if again else ''))
            if not again:
                rt.result = 'success' if clean else 'exit-code'
                self.set_state(rt, 'inactive' if clean else 'failed', 'dead' if clean else 'failed')
                return
            rt.result = 'exit-code'
            self.set_state(rt, 'activating', 'auto-restart')
            with self.cond:
                self.cond.wait_for(lambda: rt.stop_requested, restart_sec)
                if rt.stop_requested or rt.generation != generation:
                    self.set_state(rt, 'inactive', 'dead')
                    return

    def safe_env(self, unit):
        try:
            return self.unit_env(unit)
        except OSError:
            return dict(BASE_ENV)

    def activate(self, unit, rt, kind):
        """One start attempt. Returns the main process's exit status, 'done' (finished oneshot / failed start
        with no restart wanted), or 'stopped'."""
        try:
            env = self.unit_env(unit)
            self.prepare_directories(unit)
        except (OSError, KeyError) as e:
            self.note(unit, 'failed to prepare: %s' % e)
            return self.start_failed(unit, rt)
        privileged = parse_bool(unit.get('Service', 'PermissionsStartOnly'))
        for line in unit.values('Service', 'ExecStartPre'):
            ok, _ = self.run_command(unit, line, env, privileged, self.start_timeout(unit), rt)
            if rt.stop_requested:
                return 'stopped'
            if not ok:
                return self.start_failed(unit, rt)
        commands = unit.values('Service', 'ExecStart')
        if kind == 'oneshot':
            self.set_state(rt, 'activating', 'start')
            for line in commands:
                ok, _ = self.run_command(unit, line, env, False, self.start_timeout(unit), rt)
                if rt.stop_requested:
                    return 'stopped'
                if not ok:
                    return self.start_failed(unit, rt)
            self.run_post(unit, rt, env, privileged)
            rt.result = 'success'
            if parse_bool(unit.get('Service', 'RemainAfterExit')):
                self.set_state(rt, 'active', 'exited')
            else:
                self.set_state(rt, 'active', 'exited')
                self.set_state(rt, 'inactive', 'dead')
            return 'done'
        if not commands:
            self.note(unit, 'no ExecStart=')
            return self.start_failed(unit, rt)
        flags, words = split_command(unit.specifiers(commands[-1]))
        argv = expand_command(words, env)
        notify_sock = None
        if kind == 'notify':
            notify_path = os.path.join(RUN_DIR, 'notify', unit.name)
            os.makedirs(os.path.dirname(notify_path), exist_ok=True)
            if os.path.exists(notify_path):
                os.unlink(notify_path)
            notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify_sock.bind(notify_path)
            os.chmod(notify_path, 0o777)
            env['NOTIFY_SOCKET'] = notify_path
        try:
            root = '+' in flags or '!' in flags
            pid = self.spawn(argv, unit, None if root else unit.get('Service', 'User'),
                             None if root else unit.get('Service', 'Group'), env, self.working_dir(unit),
                             log=self.log_path(unit))
        except OSError as e:
            self.note(unit, 'cannot run %s: %s' % (argv[0] if argv else '', e))
            return self.start_failed(unit, rt)
        rt.main_pid = rt.sid = pid
        self.note(unit, 'started %s (pid %d)' % (' '.join(argv), pid))
        if kind == 'forking':
            status = self.wait_pid(pid, self.start_timeout(unit))
            rt.main_pid = 0
            if status is None or not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                if '-' not in flags:
                    return self.start_failed(unit, rt)
            pidfile = unit.get('Service', 'PIDFile')
            if pidfile:
                try:
                    with open(unit.specifiers(pidfile)) as f:
                        rt.main_pid = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    rt.main_pid = 0
            if not rt.main_pid:
                return self.start_failed(unit, rt)
            self.set_state(rt, 'active', 'running')
            self.run_post(unit, rt, env, privileged)
            while alive(rt.main_pid) and not rt.stop_requested:
                time.sleep(0.5)
            return 'stopped' if rt.stop_requested else (1 << 8)
        if notify_sock is not None:
            ready = self.wait_ready(unit, rt, pid, notify_sock)
            if not ready:
                if rt.stop_requested:
                    notify_sock.close()
                    return 'stopped'
                status = self.wait_pid(pid, 0.01)
                if status is None:
                    self.note(unit, 'start timed out, killing')
                    self.kill(self.unit_processes(rt), signal.SIGKILL)
                    status = self.wait_pid(pid, 10)
                notify_sock.close()
                return status
            threading.Thread(target=self.drain_notify, args=(notify_sock, rt, pid), daemon=True).start()
        self.set_state(rt, 'active', 'running')
        self.run_post(unit, rt, env, privileged)
        return self.wait_pid(pid)

    def start_timeout(self, unit):
        # systemd: 0 (like "infinity") disables the timeout (postgresql@.service sets TimeoutStartSec=0).
        timeout = parse_span(unit.get('Service', 'TimeoutStartSec', unit.get('Service', 'TimeoutSec')), 90.0)
        return None if timeout == 0 else timeout

    def run_post(self, unit, rt, env, privileged):
        for line in unit.values('Service', 'ExecStartPost'):
            self.run_command(unit, line, env, privileged, self.start_timeout(unit), rt)

    def start_failed(self, unit, rt):
        restart = unit.get('Service', 'Restart', 'no')
        if restart in ('always', 'on-failure') and not rt.stop_requested:
            return 1 << 8
        rt.result = 'exit-code'
        self.set_state(rt, 'failed', 'failed')
        return 'done'

    def wait_ready(self, unit, rt, pid, sock):
        timeout = self.start_timeout(unit)
        deadline = None if timeout is None else time.monotonic() + timeout
        sock.settimeout(0.2)
        while deadline is None or time.monotonic() < deadline:
            if rt.stop_requested:
                return False
            with self.lock:
                exited = self.children.get(pid) is not None
            if exited:
                return False
            try:
                data = sock.recv(4096).decode(errors='replace')
            except socket.timeout:
                continue
            fields = dict(line.split('=', 1) for line in data.splitlines() if '=' in line)
            if fields.get('MAINPID', '').isdigit():
                rt.main_pid = int(fields['MAINPID'])
            if fields.get('READY') == '1':
                return True
        return False

    def drain_notify(self, sock, rt, pid):
        sock.settimeout(1.0)
        while rt.main_pid == pid:
            try:
                sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
        sock.close()

    def kill_leftovers(self, unit, rt):
        """After the main process exited: end what is left of the unit (KillMode=control-group/mixed), as systemd does."""
        mode = unit.get('Service', 'KillMode', 'control-group')
        if mode in ('process', 'none') or not rt.sid:
            return
        leftovers = [p for p, (_, sid) in process_table().items() if sid == rt.sid and p != os.getpid()]
        self.kill(leftovers, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p) for p in leftovers):
            time.sleep(0.1)
        self.kill([p for p in leftovers if alive(p)], signal.SIGKILL)

    def stop(self, name, out):
        unit = find_unit(name)
        if unit is None:
            out.err('Failed to stop %s: Unit %s not loaded.' % (name, name))
            return 5
        rt = self.runtime(name)
        if unit.kind == 'timer' or unit.kind != 'service':
            self.set_state(rt, 'inactive', 'dead')
            return 0
        with self.cond:
            if rt.state in ('inactive', 'failed'):
                rt.stop_requested = True
                return 0
            rt.stop_requested = True
            self.cond.notify_all()
            prior = rt.state
            self.set_state(rt, 'deactivating', 'stop')
        env = self.safe_env(unit)
        if rt.main_pid:
            env['MAINPID'] = str(rt.main_pid)
        timeout = parse_span(unit.get('Service', 'TimeoutStopSec', unit.get('Service', 'TimeoutSec')), 90.0)
        if prior == 'active':
            for line in unit.values('Service', 'ExecStop'):
                self.run_command(unit, line, env, False, timeout)
        mode = unit.get('Service', 'KillMode', 'control-group')
        sig = getattr(signal, unit.get('Service', 'KillSignal', 'SIGTERM'), signal.SIGTERM)
        main = rt.main_pid
        targets = [p for p in ([main] if mode in ('process', 'mixed') else self.unit_processes(rt)) if p]
        if rt.control_pid:
            targets.append(rt.control_pid)
        if mode != 'none':
            self.kill(targets, sig)
        deadline = time.monotonic() + (timeout if timeout else 3600)
        while time.monotonic() < deadline and (alive(main) or any(alive(p) for p in targets if mode != 'process')):
            time.sleep(0.1)
        if alive(main) or (mode not in ('process', 'none') and any(alive(p) for p in targets)):
            self.note(unit, 'stop timed out, sending SIGKILL')
            self.kill([p for p in targets if alive(p)], signal.SIGKILL)
        for line in unit.values('Service', 'ExecStopPost'):
            self.run_command(unit, line, env, False, timeout)
        rt.main_pid = 0
        rt.result = 'success'
        self.set_state(rt, 'inactive', 'dead')
        return 0

    def reload(self, name, out):
        unit = find_unit(name)
        rt = self.runtime(name)
        if unit is None or rt.state != 'active':
            out.err('Failed to reload %s: Unit %s is not active.' % (name, name))
            return 1
        lines = unit.values('Service', 'ExecReload')
        if not lines:
            out.err('Failed to reload %s: Job type reload is not applicable for unit %s.' % (name, name))
            return 1
        env = self.safe_env(unit)
        env['MAINPID'] = str(rt.main_pid)
        for line in lines:
            ok, _ = self.run_command(unit, line, env, False, 90)
            if not ok:
                return 1
        return 0

    # ---------- enable / disable ----------
    def enable(self, name, out):
        unit = find_unit(name)
        if unit is None:
            out.err('Failed to enable unit: Unit file %s does not exist.' % name)
            return 1
        if unit.masked:
            out.err('Failed to enable unit: Unit file %s is masked.' % name)
            return 1
        install = unit.sections.get('Install', {})
        if not install:
            out.err('The unit files have no installation config (WantedBy=, RequiredBy=, Also=, Alias=).')
            return 0
        for key, suffix in (('WantedBy', '.wants'), ('RequiredBy', '.requires')):
            for target in unit.words('Install', key):
                link = os.path.join(ETC_UNITS, target + suffix, name)
                self.symlink(unit.path, link, out)
        for alias in unit.words('Install', 'Alias'):
            self.symlink(unit.path, os.path.join(ETC_UNITS, alias), out)
        for also in unit.words('Install', 'Also'):
            self.enable(normalize_name(also), out)
        return 0

    @staticmethod
    def symlink(target, link, out):
        if os.path.islink(link) and os.readlink(link) == target:
            return
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
        out.err('Created symlink %s \u2192 %s.' % (link, target))

    def enabled_links(self, name):
        return [p for p in glob.glob(os.path.join(ETC_UNITS, '*.wants', name)) + glob.glob(os.path.join(ETC_UNITS, '*.requires', name))]

    def disable(self, name, out):
        unit = find_unit(name)
        for link in self.enabled_links(name):
            os.unlink(link)
            out.err('Removed %s.' % link)
        if unit is not None:
            for alias in unit.words('Install', 'Alias'):
                path = os.path.join(ETC_UNITS, alias)
                if os.path.islink(path):
                    os.unlink(path)
                    out.err('Removed %s.' % path)
        return 0

    def is_enabled(self, name):
        unit = find_unit(name)
        if unit is None:
            return 'not-found', 4
        if unit.masked:
            return 'masked', 1
        if self.enabled_links(name):
            return 'enabled', 0
        if not unit.sections.get('Install'):
            return 'static', 0
        return 'disabled', 1

    def mask(self, name, out):
        link = os.path.join(ETC_UNITS, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.makedirs(ETC_UNITS, exist_ok=True)
        os.symlink('/dev/null', link)
        out.err('Created symlink %s \u2192 /dev/null.' % link)
        return 0

    def unmask(self, name, out):
        link = os.path.join(ETC_UNITS, name)
        if os.path.islink(link) and os.readlink(link) == '/dev/null':
            os.unlink(link)
            out.err('Removed %s.' % link)
        return 0

    # ---------- timers ----------
    def timer_loop(self):
        while True:
            time.sleep(0.25)
            with self.lock:
                timers = [(n, rt) for n, rt in self.units.items() if n.endswith('.timer') and rt.state == 'active']
            for name, rt in timers:
                try:
                    self.timer_tick(name, rt)
                except Exception as e:  # a broken timer must not stop the others
                    sys.stderr.write('standin: timer %s: %s\n' % (name, e))

    def timer_tick(self, name, rt):
        unit = find_unit(name)
        if unit is None:
            return
        target = normalize_name(unit.get('Timer', 'Unit', name[:-len('.timer')] + '.service'))
        target_rt = self.runtime(target)
        now = time.monotonic()
        due = []
        for key, base in (('OnBootSec', self.boot_time), ('OnStartupSec', self.boot_time),
                          ('OnActiveSec', rt.activated_at), ('OnUnitActiveSec', target_rt.last_active),
                          ('OnUnitInactiveSec', target_rt.last_inactive)):
            for value in unit.values('Timer', key):
                if base is not None:
                    due.append(base + (parse_span(value, 0) or 0))
        for value in unit.values('Timer', 'OnCalendar'):
            period = CALENDAR_SHORTHANDS.get(value.strip())
            if period is not None:
                due.append((rt.last_trigger or rt.activated_at) + period)
        elapsed = [t for t in due if t <= now and (rt.last_trigger is None or t > rt.last_trigger)]
        if elapsed and target_rt.state not in ('activating', 'deactivating'):
            rt.last_trigger = now
            self.start(target, Output(None), block=False)

    # ---------- boot ----------
    def start_enabled(self, only):
        """What a booting machine does: start the units enabled for the boot targets (those `only` allows)."""
        names = []
        for target in BOOT_TARGETS:
            for link in sorted(glob.glob(os.path.join(ETC_UNITS, target + '.wants', '*'))):
                name = os.path.basename(link)
                if name not in names:
                    names.append(name)
        out = Output(None)
        for name in names:
            unit = find_unit(name)
            # Units the user-data wrote (their files are in /etc/systemd/system), and the fleet's packages' units.
            # Never the test machine's own units (timesyncd would set the clock all hosts share).
            written = unit is not None and os.path.realpath(unit.path).startswith(ETC_UNITS + '/')
            if written or re.search(only, name):
                self.start(name, out, block=False)
            else:
                sys.stderr.write('standin: boot: not starting machine unit %s\n' % name)

    # ---------- control socket ----------
    def serve(self):
        os.makedirs(RUN_DIR, exist_ok=True)
        if os.path.exists(CONTROL_SOCKET):
            os.unlink(CONTROL_SOCKET)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(CONTROL_SOCKET)
        os.chmod(CONTROL_SOCKET, 0o600)
        server.listen(64)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        out = Output(conn)
        try:
            data = b''
            while not data.endswith(b'\n'):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            request = json.loads(data.decode())
            rc = self.command(request['argv'], out)
        except Exception as e:  # report, never crash PID 1
            out.err('standin: internal error: %r' % (e,))
            rc = 1
        try:
            out.send({'rc': rc})
            conn.close()
        except OSError:
            pass

    def command(self, argv, out):
        flags = [a for a in argv if a.startswith('-')]
        args = [a for a in argv if not a.startswith('-')]
        props = []
        for i, a in enumerate(argv):
            if a in ('-p', '--property') and i + 1 < len(argv):
                props.append(argv[i + 1])
                args.remove(argv[i + 1])
            elif a.startswith('--property='):
                props.append(a.split('=', 1)[1])
        quiet = '-q' in flags or '--quiet' in flags
        block = '--no-block' not in flags
        verb = args[0] if args else 'list-units'
        names = [normalize_name(n) for n in args[1:]]
        if verb in ('daemon-reload', 'daemon-reexec', 'reset-failed'):
            return 0
        if verb == 'is-system-running':
            out.out('running')
            return 0
        if verb in ('start', 'restart', 'try-restart', 'reload-or-restart', 'try-reload-or-restart', 'stop', 'reload'):
            rc = 0
            for name in names:
                if verb == 'stop':
                    rc = self.stop(name, out) or rc
                elif verb == 'start':
                    rc = self.start(name, out, block) or rc
                elif verb == 'reload':
                    rc = self.reload(name, out) or rc
                elif verb in ('try-restart', 'try-reload-or-restart'):
                    if self.runtime(name).state == 'active':
                        self.stop(name, out)
                        rc = self.start(name, out, block) or rc
                elif verb == 'reload-or-restart' and self.runtime(name).state == 'active' and (find_unit(name) or Unit(name, '', {})).values('Service', 'ExecReload'):
                    rc = self.reload(name, out) or rc
                else:
                    self.stop(name, out)
                    rc = self.start(name, out, block) or rc
            return rc
        if verb in ('enable', 'disable', 'mask', 'unmask'):
            rc = 0
            for name in names:
                rc = getattr(self, verb)(name, out) or rc
            if '--now' in flags:
                for name in names:
                    if verb == 'enable':
                        rc = self.start(name, out, block) or rc
                    elif verb in ('disable', 'mask'):
                        rc = self.stop(name, out) or rc
            return rc
        if verb == 'is-enabled':
            rc = 0
            for name in names:
                state, code = self.is_enabled(name)
                if not quiet:
                    out.out(state)
                rc = rc or code
            return rc
        if verb in ('is-active', 'is-failed'):
            rc = 0
            for name in names:
                state = self.runtime(name).state
                if not quiet:
                    out.out(state)
                if (verb == 'is-active' and state not in ('active', 'reloading')) or (verb == 'is-failed' and state != 'failed'):
                    rc = 3 if verb == 'is-active' else 1
            return rc
        if verb == 'show':
            for name in names:
                rt = self.runtime(name)
                unit = find_unit(name)
                values = {
                    'Id': name, 'ActiveState': rt.state, 'SubState': rt.sub, 'MainPID': str(rt.main_pid),
                    'Result': rt.result, 'LoadState': 'masked' if unit and unit.masked else ('loaded' if unit else 'not-found'),
                    'FragmentPath': unit.path if unit else '', 'UnitFileState': self.is_enabled(name)[0],
                }
                for key in (props or sorted(values)):
                    out.out(values.get(key, '') if '--value' in flags else '%s=%s' % (key, values.get(key, '')))
            return 0
        if verb == 'status':
            rc = 0
            for name in names:
                rc = self.status(name, out) or rc
            return rc
        if verb in ('kill',):
            sig = signal.SIGTERM
            for i, a in enumerate(argv):
                if a in ('-s', '--signal') and i + 1 < len(argv):
                    sig = getattr(signal, argv[i + 1] if argv[i + 1].startswith('SIG') else 'SIG' + argv[i + 1])
                    if normalize_name(argv[i + 1]) in names:
                        names.remove(normalize_name(argv[i + 1]))
                elif a.startswith('--signal='):
                    v = a.split('=', 1)[1]
                    sig = getattr(signal, v if v.startswith('SIG') else 'SIG' + v)
            for name in names:
                rt = self.runtime(name)
                targets = [rt.main_pid] if '--kill-who=main' in flags else self.unit_processes(rt)
                self.kill([p for p in targets if p], sig)
            return 0
        if verb in ('list-units', 'list-timers'):
            with self.lock:
                for name, rt in sorted(self.units.items()):
                    if rt.state != 'inactive':
                        out.out('%-50s %-12s %s' % (name, rt.state, rt.sub))
            return 0
        if verb == 'list-unit-files':
            for dir_ in UNIT_PATHS:
                for path in sorted(glob.glob(os.path.join(dir_, '*.*'))):
                    if os.path.isfile(path):
                        out.out('%-50s %s' % (os.path.basename(path), self.is_enabled(os.path.basename(path))[0]))
            return 0
        out.err('standin systemctl: unsupported command %r' % verb)
        return 1

    def status(self, name, out):
        unit = find_unit(name)
        if unit is None:
            out.err('Unit %s could not be found.' % name)
            return 4
        rt = self.runtime(name)
        out.out('\u25cf %s - %s' % (name, unit.get('Unit', 'Description', name)))
        out.out('     Loaded: %s (%s; %s)' % ('masked' if unit.masked else 'loaded', unit.path, self.is_enabled(name)[0]))
        out.out('     Active: %s (%s)' % (rt.state, rt.sub))
        if rt.main_pid:
            out.out('   Main PID: %d' % rt.main_pid)
        for line in tail(self.log_path(unit), 10):
            out.out(line)
        return 0 if rt.state == 'active' else 3


def describe_status(status):
    if status is None:
        return 'unknown'
    if os.WIFEXITED(status):
        return 'code=exited, status=%d' % os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 'code=killed, signal=%s' % signal.Signals(os.WTERMSIG(status)).name
    return 'status=%d' % status


def tail(path, count):
    try:
        with open(path, errors='replace') as f:
            return [line.rstrip('\n') for line in collections.deque(f, count)]
    except OSError:
        return []


class Output(object):
    """Lines for the systemctl client (or the stand-in's own stderr when there is no client)."""

    def __init__(self, conn):
        self.conn = conn

    def send(self, message):
        if self.conn is None:
            return
        try:
            self.conn.sendall((json.dumps(message) + '\n').encode())
        except OSError:
            self.conn = None

    def out(self, line):
        if self.conn is None:
            sys.stdout.write(line + '\n')
        self.send({'out': line})

    def err(self, line):
        if self.conn is None:
            sys.stderr.write(line + '\n')
            sys.stderr.flush()
        self.send({'err': line})


# ---------- PID 1 ----------

def apply_tmpfiles(prefixes=('/run/', '/var/run/', '/var/log/')):
    """systemd-tmpfiles --create for the `d`/`D` lines under the volatile prefixes (what a fresh boot gets)."""
    files = {}
    for dir_ in ('/usr/lib/tmpfiles.d', '/lib/tmpfiles.d', '/run/tmpfiles.d', '/etc/tmpfiles.d'):
        for path in sorted(glob.glob(os.path.join(dir_, '*.conf'))):
            files[os.path.basename(path)] = path
    for key in sorted(files):
        with open(files[key]) as f:
            for raw in f:
                fields = raw.split()
                if len(fields) < 2 or fields[0] not in ('d', 'D') or not fields[1].startswith(prefixes):
                    continue
                path = fields[1]
                mode = int(fields[2], 8) if len(fields) > 2 and fields[2] != '-' else 0o755
                try:
                    uid = pwd.getpwnam(fields[3]).pw_uid if len(fields) > 3 and fields[3] != '-' else 0
                    gid = grp.getgrnam(fields[4]).gr_gid if len(fields) > 4 and fields[4] != '-' else 0
                    os.makedirs(path, exist_ok=True)
                    os.chmod(path, mode)
                    os.chown(path, uid, gid)
                except (KeyError, OSError):
                    continue


def boot(config_path):
    import subprocess  # only before the reaper runs: afterwards every child is reaped by the manager
    with open(config_path) as f:
        config = json.load(f)
    for command in config.get('mounts', []):
        subprocess.run(command, check=True)
    socket.sethostname(config['hostname'])
    me = os.path.realpath(__file__)
    for target in ('/usr/bin/systemctl', '/usr/bin/journalctl'):
        if os.path.realpath(target) != me:
            if os.path.lexists(target):
                os.unlink(target)
            shutil.copyfile(me, target)
            os.chmod(target, 0o755)
    apply_tmpfiles()
    for path in (os.path.join(RUN_DIR, 'system'), os.path.join(RUN_DIR, 'notify'), LOG_DIR):
        os.makedirs(path, exist_ok=True)
    serve_forever(config.get('startEnabled', False), config.get('bootUnits', r'^$'))


def serve_forever(start_enabled=False, boot_units=r'^$'):
    manager = Manager()
    os.makedirs(LOG_DIR, exist_ok=True)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: shutdown(manager))
    threading.Thread(target=manager.reaper, daemon=True).start()
    threading.Thread(target=manager.timer_loop, daemon=True).start()
    threading.Thread(target=manager.serve, daemon=True).start()
    while not os.path.exists(CONTROL_SOCKET):
        time.sleep(0.01)
    if start_enabled:
        manager.start_enabled(boot_units)
    sys.stdout.write('standin: ready\n')
    sys.stdout.flush()
    while True:
        time.sleep(3600)


def shutdown(manager):
    """A clean power-off: stop every active service, then exit (which, as PID 1, ends the host)."""
    out = Output(None)
    with manager.lock:
        names = [n for n, rt in manager.units.items() if rt.state in ('active', 'activating')]
    for name in names:
        if name.endswith('.service'):
            manager.stop(name, out)
    os._exit(0)


# ---------- clients ----------

def systemctl(argv):
    if not os.path.exists(CONTROL_SOCKET):
        sys.stderr.write("System has not been booted with systemd as init system (PID 1). Can't operate.\n")
        return 1
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(CONTROL_SOCKET)
    conn.sendall((json.dumps({'argv': argv}) + '\n').encode())
    buffer = b''
    rc = 1
    with conn.makefile('rb') as stream:
        for raw in stream:
            message = json.loads(raw.decode())
            if 'out' in message:
                sys.stdout.write(message['out'] + '\n')
            elif 'err' in message:
                sys.stderr.write(message['err'] + '\n')
            elif 'rc' in message:
                rc = message['rc']
    del buffer
    sys.stdout.flush()
    return rc


def journalctl(argv):
    units = []
    lines = None
    for i, a in enumerate(argv):
        if a in ('-u', '--unit') and i + 1 < len(argv):
            units.append(normalize_name(argv[i + 1]))
        elif a.startswith('--unit='):
            units.append(normalize_name(a.split('=', 1)[1]))
        elif a in ('-n', '--lines') and i + 1 < len(argv):
            lines = int(argv[i + 1])
        elif a.startswith('--lines='):
            lines = int(a.split('=', 1)[1])
    for name in units:
        for line in tail(os.path.join(LOG_DIR, name + '.log'), lines or 100000):
            sys.stdout.write(line + '\n')
    return 0


def main(argv):
    name = os.path.basename(argv[0])
    if name == 'systemctl':
        return systemctl(argv[1:])
    if name == 'journalctl':
        return journalctl(argv[1:])
    if len(argv) >= 3 and argv[1] == 'boot':
        boot(argv[2])
        return 0
    if len(argv) >= 2 and argv[1] == 'serve':
        serve_forever()
        return 0
    if len(argv) >= 2 and argv[1] == 'systemctl':
        return systemctl(argv[2:])
    sys.stderr.write('usage: systemd.py boot CONFIG.json | serve | systemctl ARGS...\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
