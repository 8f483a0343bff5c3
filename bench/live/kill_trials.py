#!/usr/bin/python3
"""kill -9 trials of `ark serve` under load: is every acknowledged message in the Ark?

Run by bench/live/kill_trials.sh (see there for the options). Starts `ark serve` on a fresh small
built Ark (300 synthetic people), streams HL7 ORU^R01 messages over MLLP from several pipelined connections (each message's
control id K<n> and OBX value n are unique), records the control ids ACKed AA, kill -9's the
server at a random moment (fixed seed), restarts it (timed: spawn to the first 200 from /healthz),
and repeats. At the end it stops the server cleanly, exports the Ark's events (`ark export
--schema ark` to SQLite) and checks that every ACKed message's event (code LOINC/8867-4, value n)
is there; then runs `ark build` and counts again.
"""
import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CODE = "8867-4"


def nhs_numbers(n):
    """Valid NHS numbers (Modulus 11) in the test range 999 000 0000 and up."""
    out, base = [], 999000000
    while len(out) < n:
        d = str(base)
        base += 1
        s = sum(int(d[k]) * (10 - k) for k in range(9))
        check = 11 - s % 11
        if check == 10:
            continue
        out.append(d + str(0 if check == 11 else check))
    return out


def message(n, nhs):
    t = time.gmtime(1735689600 + n)  # 2025-01-01 plus n seconds: a distinct time per message
    when = time.strftime("%Y%m%d%H%M%S", t)
    return ("MSH|^~\\&|LIMS|RXX01|HUB|REG|%s||ORU^R01^ORU_R01|K%d|P|2.4\r"
            "PID|1||%s^^^NHS^NH||DOE^JO||19800215|F\r"
            "OBR|1|||OBS|||%s\r"
            "OBX|1|NM|%s^Pulse^LN||%d|/min|||||F|||%s\r" % (when, n, nhs, when, CODE, n, when))


def frame(msg):
    return b"\x0b" + msg.encode() + b"\x1c\x0d"


class Feed:
    """Numbers messages, sends them on C connections with W in flight each, records AA ids."""

    def __init__(self, nhs):
        self.nhs = nhs
        self.next = 0
        self.lock = threading.Lock()
        self.acked = set()
        self.sent = 0

    def take(self, k):
        with self.lock:
            first = self.next
            self.next += k
            self.sent += k
            return range(first, first + k)

    def run(self, port, window, stop):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            return
        sock.settimeout(5)
        buf = b""
        in_flight = 0
        try:
            while not stop.is_set():
                if in_flight < window:
                    nums = self.take(window - in_flight)
                    sock.sendall(b"".join(frame(message(n, self.nhs[n % len(self.nhs)]))
                                          for n in nums))
                    in_flight += len(nums)
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
                while True:
                    end = buf.find(b"\x1c\x0d")
                    if end < 0:
                        break
                    ack, buf = buf[:end], buf[end + 2:]
                    in_flight -= 1
                    for seg in ack.lstrip(b"\x0b").split(b"\r"):
                        f = seg.split(b"|")
                        if f[0] == b"MSA" and len(f) > 2 and f[1] == b"AA":
                            self.acked.add(int(f[2][1:]))
        except (OSError, ValueError):
            return
        finally:
            sock.close()


def healthz(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def start(args, log):
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [args.ark_binary, "serve", args.ark, "--key", args.key,
         "--mllp", "127.0.0.1:%d" % args.mllp_port, "--http", "127.0.0.1:%d" % args.http_port]
        + args.serve_args, stdout=subprocess.DEVNULL, stderr=log)
    while True:
        h = healthz(args.http_port)
        if h is not None:
            return proc, (time.monotonic() - t0) * 1000, h["records"]
        if proc.poll() is not None:
            sys.exit("kill_trials: ark serve exited with status %d (see %s)"
                     % (proc.returncode, args.ark + ".serve.log"))
        if time.monotonic() - t0 > 120:
            proc.kill()
            sys.exit("kill_trials: ark serve did not answer /healthz within 120 s")
        time.sleep(0.005)


def setup(args, root):
    """A small built Ark (300 synthetic people through pseudonymise, ingest, link and build), so
    that `ark build` after the trials has a batch side to rebuild with the live events."""
    region, feeds = os.path.join(root, "region"), os.path.join(root, "feeds")
    cmds = [["synth", "--people", "300", "--years", "2", "--seed", "3", "--quiet", "--out", region],
            ["keygen", "--out", args.key], ["init", args.ark]]
    custodians = ["gp", "acute", "community", "social_care", "deaths"]
    for c in custodians:
        cmds.append(["pseudonymise", "--key", args.key, "--custodian", c,
                     "--in", os.path.join(region, c), "--out", os.path.join(feeds, c)])
    cmds += [["ingest", args.ark] + [os.path.join(feeds, c) for c in custodians],
             ["link", args.ark], ["build", args.ark]]
    for cmd in cmds:
        r = subprocess.run([args.ark_binary] + cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("kill_trials: ark %s failed: %s" % (cmd[0], (r.stderr or r.stdout).strip()))


def stored_values(args, db):
    if os.path.exists(db):
        os.remove(db)
    r = subprocess.run([args.ark_binary, "export", args.ark, "--to", "sqlite:" + db,
                        "--schema", "ark"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("kill_trials: ark export failed: " + r.stderr.strip())
    con = sqlite3.connect(db)
    rows = con.execute("SELECT value FROM ark_event WHERE code = ?", ("LOINC/" + CODE,))
    values = [int(v) for (v,) in rows]
    con.close()
    return values


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ark-binary", required=True)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--mllp-port", type=int, default=21610)
    ap.add_argument("--http-port", type=int, default=21611)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--min-load", type=float, default=0.3, help="seconds of load before a kill")
    ap.add_argument("--max-load", type=float, default=2.0)
    ap.add_argument("--dir", default="")
    ap.add_argument("serve_args", nargs="*", help="extra `ark serve` options (after --)")
    args = ap.parse_args()
    root = args.dir or tempfile.mkdtemp(prefix="ark_kill_trials_")
    os.makedirs(root, exist_ok=True)
    args.ark = os.path.join(root, "ark")
    args.key = os.path.join(root, "programme.key")
    setup(args, root)
    rng = random.Random(args.seed)
    feed = Feed(nhs_numbers(args.persons))
    restarts, problems = [], []
    with open(args.ark + ".serve.log", "ab") as log:
        proc, _, _ = start(args, log)
        for trial in range(args.trials):
            stop = threading.Event()
            threads = [threading.Thread(target=feed.run, args=(args.mllp_port, args.window, stop))
                       for _ in range(args.connections)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(args.min_load, args.max_load))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
            proc, ms, records = start(args, log)
            restarts.append(ms)
            if records < len(feed.acked):
                problems.append("trial %d: %d records after restart, %d messages ACKed so far"
                                % (trial + 1, records, len(feed.acked)))
            print("kill_trials: trial %2d: %7d ACKed so far; restart after kill -9 %6.0f ms"
                  % (trial + 1, len(feed.acked), ms), flush=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    values = set(stored_values(args, os.path.join(root, "events.db")))
    found = len(feed.acked & values)
    lost = len(feed.acked) - found
    print("kill_trials: trials %d, sent %d, acked %d, found %d, lost %d (events stored %d); "
          "restart after kill -9: p50 %.0f ms, max %.0f ms"
          % (args.trials, feed.sent, len(feed.acked), found, lost, len(values),
             statistics.median(restarts), max(restarts)))
    # The same count after `ark build` (which rewrites the store from everything acknowledged).
    b = subprocess.run([args.ark_binary, "build", args.ark], capture_output=True, text=True)
    if b.returncode != 0:
        print("kill_trials: after ark build: build failed: " + (b.stderr or b.stdout).strip())
        problems.append("ark build failed")
    else:
        after = stored_values(args, os.path.join(root, "events_after_build.db"))
        found_b = len(feed.acked & set(after))
        print("kill_trials: after ark build: found %d, lost %d (events stored %d, distinct %d)"
              % (found_b, len(feed.acked) - found_b, len(after), len(set(after))))
        if found_b != len(feed.acked):
            problems.append("acknowledged messages missing after ark build")
    opens = []
    with open(args.ark + ".serve.log", errors="replace") as f:
        for line in f:
            if line.startswith("ark serve: open "):
                opens.append(line.strip())
    if opens:
        print("kill_trials: slowest start, the server's account: "
              + max(opens, key=lambda l: float(l.split()[3]))[len("ark serve: "):])
    for p in problems:
        print("kill_trials: problem: " + p)
    if not args.dir:
        subprocess.run(["rm", "-rf", root])
    sys.exit(1 if lost or problems else 0)


if __name__ == "__main__":
    main()
