"""Start MXNet's parameter-server training (ps-lite, built into the mxnet wheel): a
scheduler, servers and workers, each running the same command with the ``DMLC_*``
environment MXNet reads.

On one machine every process binds to ``127.0.0.1`` (``DMLC_NODE_HOST``), so nothing listens
beyond loopback unless ``--host`` says otherwise. With a host file the servers and workers
are started over ssh, one host a line, in turn. When a worker fails, every process is
stopped and the failure is reported; nothing is left running and nothing hangs past
``timeout``.
"""
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

from .errors import UserError

log = logging.getLogger(__name__)

# What a process prints when MXNet 1.9.1's parameter server aborts a job in its first steps
# (a key asked for before it was stored; docs/scaling-out.md): starting again is the cure.
PS_LITE_ABORT = re.compile(r"init \d+ first|ps-lite/include/ps/\w+\.h:\d+: Check failed")

# How long interrupted workers get to finish their step before they are killed.
WORKER_GRACE_SECONDS = 30


class JobInterrupted(UserError):
    """The launcher was interrupted (Ctrl-C) and stopped the job."""
    exit_code = 130


def free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def read_hosts(path):
    try:
        with open(path) as handle:
            hosts = [line.split("#")[0].strip() for line in handle]
    except OSError as err:
        raise UserError("cannot read the host file %s (%s)." % (path, err.strerror)) from None
    hosts = [host for host in hosts if host]
    if not hosts:
        raise UserError("the host file %s names no host." % path)
    return hosts


def resolve(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        raise UserError("cannot resolve the host name %s to an address." % host) from None


class Cluster:
    """The processes of one parameter-server job."""

    def __init__(self, command, num_workers, num_servers, host="127.0.0.1", hosts=None):
        if num_workers < 1 or num_servers < 1:
            raise UserError("a distributed job needs at least one worker and one server; got "
                            "%d worker(s) and %d server(s)." % (num_workers, num_servers))
        if not command:
            raise UserError("give the command to run after --, e.g. -- python scripts/train.py "
                            "--kvstore dist_sync")
        if not hosts and shutil.which(command[0]) is None:
            raise UserError("%s: no such command here; give the command every process runs "
                            "after --, e.g. -- python scripts/train.py --kvstore dist_sync."
                            % command[0])
        self.command, self.hosts, self.host = command, hosts, host
        self.num_workers, self.num_servers = num_workers, num_servers
        # ps-lite binds to DMLC_NODE_HOST as given, and ZeroMQ binds to addresses, not
        # names; resolved before any process starts, so a bad name starts nothing
        self.addresses = {name: resolve(name) for name in [host] + list(hosts or [])}
        self.port = free_port(host)
        self.processes = []  # (role, index, Popen)

    def _environment(self, role, node_host):
        env = dict(os.environ, DMLC_ROLE=role, DMLC_PS_ROOT_URI=self.host,
                   DMLC_PS_ROOT_PORT=str(self.port), DMLC_NUM_WORKER=str(self.num_workers),
                   DMLC_NUM_SERVER=str(self.num_servers), DMLC_NODE_HOST=node_host)
        return env

    def _start(self, role, index, node_host):
        env = self._environment(role, self.addresses[node_host])
        if self.hosts and role != "scheduler":
            exports = " ".join("%s=%s" % (key, shlex.quote(env[key])) for key in sorted(env)
                               if key.startswith("DMLC_"))
            remote = "cd %s && env %s %s" % (shlex.quote(os.getcwd()), exports,
                                             " ".join(shlex.quote(part) for part in self.command))
            argv = ["ssh", "-o", "BatchMode=yes", node_host, remote]
            env = dict(os.environ)
        else:
            argv = list(self.command)
        process = subprocess.Popen(argv, env=env, start_new_session=True)
        self.processes.append((role, index, process))

    def start(self):
        self._start("scheduler", 0, self.host)
        for index in range(self.num_servers):
            self._start("server", index, self._node(index))
        for index in range(self.num_workers):
            self._start("worker", index, self._node(self.num_servers + index))

    def _node(self, index):
        return self.hosts[index % len(self.hosts)] if self.hosts else self.host

    def stop(self, roles=None, grace=10):
        """SIGTERM to the processes of ``roles`` (default: all), SIGKILL to those still
        running after ``grace`` seconds."""
        chosen = [process for role, _, process in self.processes if roles is None or role in roles]
        for process in chosen:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + grace
        for process in chosen:
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def interrupt(self):
        """Ctrl-C or SIGTERM: the workers first, so that each can finish its step and say what was
        saved while the servers still answer; then the servers and the scheduler."""
        for number in (signal.SIGINT, signal.SIGTERM):  # a second one must not cut this short
            signal.signal(number, signal.SIG_IGN)
        self.stop(roles=("worker",), grace=WORKER_GRACE_SECONDS)
        self.stop()

    def wait(self, timeout=None):
        """0 when every worker succeeded; otherwise stop all and raise UserError. SIGINT and
        SIGTERM stop the job too: a launcher killed alone would leave its processes running,
        and one started in the background inherits SIGINT ignored."""
        deadline = None if timeout is None else time.time() + timeout
        previous = {number: signal.signal(number, _interrupt)
                    for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            while True:
                for role, index, process in self.processes:
                    code = process.poll()
                    if code not in (None, 0):
                        hint = (" If it printed 'init N first' or a ps-lite 'Check failed' "
                                "just after the start, that is MXNet 1.9.1's known "
                                "parameter-server race: start the job again."
                                if code == -signal.SIGABRT else "")
                        raise UserError("%s %d exited with status %d; stopped the other "
                                        "processes of the job.%s" % (role, index, code, hint))
                workers = [p for role, _, p in self.processes if role == "worker"]
                if all(p.poll() == 0 for p in workers):
                    # servers and the scheduler leave once the workers have finalized
                    for role, index, process in self.processes:
                        process.wait(timeout=30)
                    return 0
                if deadline is not None and time.time() > deadline:
                    raise UserError("the distributed job did not finish within %d s; stopped "
                                    "all of its processes." % timeout)
                time.sleep(0.2)
        except subprocess.TimeoutExpired:
            raise UserError("a server or the scheduler did not exit after the workers "
                            "finished; stopped them.") from None
        except KeyboardInterrupt:
            self.interrupt()
            raise JobInterrupted("interrupted: stopped the job's %d processes; each worker's "
                                 "last line above says what --resume continues from."
                                 % len(self.processes)) from None
        finally:
            self.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)


def _interrupt(number, frame):
    raise KeyboardInterrupt


def launch(command, num_workers, num_servers, host="127.0.0.1", hosts_file=None, timeout=None):
    hosts = read_hosts(hosts_file) if hosts_file else None
    cluster = Cluster(command, num_workers, num_servers, host, hosts)
    log.info("scheduler on %s:%d, %d server(s), %d worker(s)%s", host, cluster.port,
             num_servers, num_workers, " over ssh" if hosts else "")
    cluster.start()
    return cluster.wait(timeout)


__all__ = ["Cluster", "PS_LITE_ABORT", "free_port", "launch", "read_hosts", "resolve"]
