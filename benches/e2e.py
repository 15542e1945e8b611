#!/usr/bin/env python3
"""Drive the end-to-end benchmark: `xtr worker` beside the reference Python worker.

`benches/e2e.sh` starts Redis and the nginx Kambi stand-in, then runs this driver with
their ports. For each served body and each XTR_BATCH value the driver runs both workers
on the same jobs, one after the other, and measures them as `reference/drain.py` does.
It enqueues N jobs, starts the worker, and stops it with SIGTERM once the group has
neither lag nor pending entries. Wall time runs from the worker's start to that moment,
CPU time is the worker's user plus system time from /proc/PID/stat (startup included),
and peak RSS is the kernel's VmHWM.

Two more runs per body measure what a backlog drain cannot show:

- a paced run for latency: the worker is started first, then jobs are enqueued at a
  fixed rate below both workers' capacity. A job's latency is the millisecond part of
  its first result entry's id minus that of its job entry's id, both stamped by the
  Redis server's clock;
- a counting run under MONITOR (xtr only): every command the worker sends outside a
  script, counted per batch.
"""

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import drain  # noqa: E402  (the reference harness, unchanged: its served-body writer)

STREAM = "XTR-BTTS_live_stream"
GROUP = "btts-worker"
FIRST_EVENT_ID = 1_000_000_000
POLL_SECONDS = 0.02
MONITOR_END = "xtr-bench-monitor-end"
PUBLISH = "EVALSHA (publish script)"


class WorkerSpec:
    """How to start one worker and where it writes its results."""

    def __init__(self, name, command, env, results_stream):
        self.name = name
        self.command = command
        self.env = env
        self.results_stream = results_stream


class RunFailed(Exception):
    """A worker did not drain its jobs, exited early or did not stop cleanly."""


def write_served_body(source, www):
    """Write the served body as reference/drain.py does (unwrapped, compact, the first
    event's id replaced by the placeholder). A body without `events[]` gets its first
    bet offer's `eventId` replaced instead, which drain.py leaves alone, so that every
    job's response is about the job's own event for both workers. Returns the size."""
    target = os.path.join(www, "event.json")
    drain.write_served_event(source, target)
    with open(target, encoding="utf-8") as f:
        text = f.read()
    if drain.PLACEHOLDER not in text:
        offers = json.loads(text).get("betOffers") or []
        first = next((offer["eventId"] for offer in offers if "eventId" in offer), None)
        if first is not None:
            text = text.replace(str(first), drain.PLACEHOLDER)
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
    if drain.PLACEHOLDER not in text:
        raise SystemExit(f"{source}: found no event id to serve as the requested one")
    return os.path.getsize(target)


def enqueue(client, count):
    """Add COUNT jobs in one pipeline; return {event id: job entry's millisecond}."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.xadd(STREAM, {"bookmaker": "unibet", "event": str(FIRST_EVENT_ID + i)})
    ids = pipe.execute()
    return {str(FIRST_EVENT_ID + i): entry_millis(ids[i]) for i in range(count)}


def enqueue_paced(client, count, rate):
    """Add COUNT jobs at RATE per second, one XADD each; return event id -> millisecond."""
    stamps = {}
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        event = str(FIRST_EVENT_ID + i)
        stamps[event] = entry_millis(client.xadd(STREAM, {"bookmaker": "unibet", "event": event}))
    return stamps


def entry_millis(entry_id):
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode()
    return int(entry_id.split("-", 1)[0])


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_state(client):
    try:
        groups = {g["name"].decode(): g for g in client.xinfo_groups(STREAM)}
    except redis.ResponseError:
        return None
    return groups.get(GROUP)


def is_drained(group, jobs):
    return bool(
        group
        and group.get("lag") == 0
        and group["pending"] == 0
        and group["entries-read"]
        and group["entries-read"] >= jobs
    )


class RunningWorker:
    """A started worker process with its log file."""

    def __init__(self, spec, batch, log_path):
        env = dict(os.environ)
        env.update(spec.env)
        env.update({"STREAM": STREAM, "XTRTYPE": GROUP, "XTR_BATCH": str(batch)})
        self.spec = spec
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            spec.command, env=env, stdout=subprocess.DEVNULL, stderr=self.log
        )

    def check_alive(self):
        code = self.process.poll()
        if code is not None:
            raise RunFailed(f"{self.spec.name} exited early with status {code}; see {self.log_path}")

    def wait_drained(self, client, jobs, timeout):
        """Poll until the group has read JOBS entries and has no lag and no pending."""
        while time.monotonic() - self.started < timeout:
            self.check_alive()
            if is_drained(group_state(client), jobs):
                return time.monotonic()
            time.sleep(POLL_SECONDS)
        raise RunFailed(
            f"{self.spec.name} did not drain {jobs} jobs within {timeout:.0f} s; see {self.log_path}"
        )

    def wait_reading(self, client, timeout):
        """Wait until a client is blocked in XREADGROUP, so the worker is waiting for
        jobs before paced jobs arrive. (Redis 7.0 adds a consumer to the group only
        once it is delivered an entry, so the group cannot show it.)"""
        while time.monotonic() - self.started < timeout:
            self.check_alive()
            blocked = [
                c for c in client.client_list() if c.get("cmd") == "xreadgroup" and "b" in c.get("flags", "")
            ]
            if blocked:
                time.sleep(0.3)
                return
            time.sleep(POLL_SECONDS)
        raise RunFailed(f"{self.spec.name} did not block in XREADGROUP within {timeout:.0f} s; see {self.log_path}")

    def stop(self):
        """Send SIGTERM and wait; a worker must exit 0 within 15 s."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RunFailed(f"{self.spec.name} did not exit within 15 s of SIGTERM; see {self.log_path}")
        finally:
            self.log.close()
        if code != 0:
            raise RunFailed(f"{self.spec.name} exited with status {code} after SIGTERM; see {self.log_path}")


def drain_run(client, spec, jobs, batch, options):
    """Measure one worker draining a backlog of JOBS jobs."""
    client.flushall()
    enqueue(client, jobs)
    client.config_resetstat()

    worker = RunningWorker(spec, batch, os.path.join(options.logdir, f"{spec.name}.log"))
    try:
        done_at = worker.wait_drained(client, jobs, options.timeout)
        cpu = cpu_seconds(worker.process.pid)
        peak = peak_rss_kb(worker.process.pid)
    except BaseException:
        worker.process.kill()
        worker.process.wait()
        raise
    stats = client.info("commandstats")
    worker.stop()

    wall = done_at - worker.started
    dead = client.xlen(f"{STREAM}:dead")
    published = client.xlen(spec.results_stream)
    if dead:
        raise RunFailed(f"{spec.name} dead-lettered {dead} of {jobs} jobs; see {worker.log_path}")
    calls = lambda name: stats.get(f"cmdstat_{name}", {}).get("calls", 0)  # noqa: E731
    return {
        "jobs": jobs,
        "published": published,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": peak / 1024,
        "jobs_per_s": jobs / wall,
        "jobs_per_cpu_s": jobs / cpu if cpu else None,
        "evalsha_calls": calls("evalsha") + calls("eval"),
        "xreadgroup_calls": calls("xreadgroup"),
    }


def latency_run(client, spec, jobs, batch, rate, options):
    """Enqueue JOBS jobs at RATE per second into a running worker and return, for each
    job that published a result, the milliseconds from enqueue to its first result."""
    client.flushall()
    worker = RunningWorker(spec, batch, os.path.join(options.logdir, f"{spec.name}-latency.log"))
    try:
        worker.wait_reading(client, 60)
        stamps = enqueue_paced(client, jobs, rate)
        worker.wait_drained(client, jobs, options.timeout)
    except BaseException:
        worker.process.kill()
        worker.process.wait()
        raise
    worker.stop()
    first_result = {}
    for entry_id, fields in read_stream(client, spec.results_stream):
        event = fields.get(b"event")
        if event is None:
            event = str(json.loads(fields[b"snapshot"])["event_id"]).encode()
        first_result.setdefault(event.decode(), entry_millis(entry_id))
    return [first_result[event] - stamps[event] for event in stamps if event in first_result]


def read_stream(client, stream):
    after = "-"
    while True:
        chunk = client.xrange(stream, min=after, count=5000)
        if not chunk:
            return
        yield from chunk
        after = "(" + chunk[-1][0].decode()


def count_round_trips(client, port, spec, jobs, batch, options):
    """Run xtr on JOBS jobs under MONITOR and count the commands it sends outside its
    publish script, between its first and last script call."""
    client.flushall()
    enqueue(client, jobs)
    own_address = client.client_info()["addr"]
    commands = []
    ready = threading.Event()

    def listen():
        monitor_client = redis.Redis(host="127.0.0.1", port=port)
        with monitor_client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                text = command["command"]
                if text.upper().startswith("ECHO") and MONITOR_END in text:
                    return
                commands.append(command)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(5)
    time.sleep(0.2)
    worker = RunningWorker(spec, batch, os.path.join(options.logdir, f"{spec.name}-count.log"))
    try:
        worker.wait_drained(client, jobs, options.timeout)
    except BaseException:
        worker.process.kill()
        worker.process.wait()
        raise
    worker.stop()
    client.echo(MONITOR_END)
    listener.join(30)

    outside = []
    for command in commands:
        if command.get("client_type") == "lua":
            continue
        address = f"{command.get('client_address')}:{command.get('client_port')}"
        if address == own_address:
            continue
        outside.append(command_name(command["command"]))
    scripts = [i for i, name in enumerate(outside) if name == PUBLISH]
    if not scripts:
        raise RunFailed("xtr sent no publish script under MONITOR")
    window = outside[scripts[0] : scripts[-1] + 1]
    by_name = {}
    for name in window:
        by_name[name] = by_name.get(name, 0) + 1
    everything = {}
    for name in outside:
        everything[name] = everything.get(name, 0) + 1
    batches = len(scripts)
    besides_read = sum(count for name, count in by_name.items() if name != "XREADGROUP")
    return {
        "jobs": jobs,
        "batch": batch,
        "script_calls": batches,
        "expected_batches": math.ceil(jobs / batch),
        "window_commands": by_name,
        "all_commands": everything,
        "besides_xreadgroup_per_batch": besides_read / batches,
        "sequence": outside[:400],
    }


def command_name(text):
    """Name a monitored command. The publish script is distinguished from the worker's
    other scripts (its consumer lease) by its arguments: no keys, then the job stream."""
    words = text.split(" ")
    name = words[0].strip('"').upper()
    if name in ("EVALSHA", "EVAL"):
        if len(words) > 3 and words[2] == "0" and words[3] == STREAM:
            return PUBLISH
        return f"{name} (other script)"
    return name


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values, fraction):
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def fmt(value, digits=0):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def summarize(runs):
    keys = ("wall_s", "cpu_s", "peak_rss_mb", "jobs_per_s", "jobs_per_cpu_s", "published")
    summary = {key: median([run[key] for run in runs]) for key in keys}
    summary["evalsha_calls"] = median([run["evalsha_calls"] for run in runs])
    summary["xreadgroup_calls"] = median([run["xreadgroup_calls"] for run in runs])
    return summary


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--base-url", required=True, help="the nginx stand-in, http://127.0.0.1:PORT")
    parser.add_argument("--www", required=True, help="nginx's root; event.json is written there")
    parser.add_argument("--xtr", required=True, help="path of the xtr binary")
    parser.add_argument("--reference", required=True, help="path of python_baseline.py")
    parser.add_argument("--python", default=sys.executable, help="Python that runs the reference")
    parser.add_argument("--body", action="append", required=True, metavar="LABEL=FILE")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per drain run")
    parser.add_argument("--batches", default="1,3,16,64", help="XTR_BATCH values, comma-separated")
    parser.add_argument("--main-batch", type=int, default=3, help="XTR_BATCH of the headline table")
    parser.add_argument("--repeat", type=int, default=1, help="drain runs per worker, body and batch")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help="length of each paced run")
    parser.add_argument("--latency-rate", type=float, help="paced jobs per second (default: half the reference's)")
    parser.add_argument("--count-jobs", type=int, default=300, help="jobs of each MONITOR counting run")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a run may take")
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--json", help="write every figure to this file")
    return parser.parse_args()


def main():
    options = parse_arguments()
    batches = [int(b) for b in options.batches.split(",") if b.strip()]
    if options.main_batch not in batches:
        batches.append(options.main_batch)
    bodies = []
    for item in options.body:
        label, _, path = item.partition("=")
        bodies.append((label, path))
    inherited = sorted(k for k in os.environ if k.startswith("XTR_") and k != "XTR_BATCH")
    if inherited:
        print(f"note: workers inherit {', '.join(inherited)} from this environment")

    client = redis.Redis(host="127.0.0.1", port=options.redis_port, single_connection_client=True)
    common = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(options.redis_port)}
    reference = WorkerSpec(
        "reference",
        [options.python, options.reference],
        dict(common, KAMBI_BASE_URL=options.base_url),
        "py:odds",
    )
    xtr = WorkerSpec(
        "xtr",
        [options.xtr, "worker"],
        dict(common, XTR_UNIBET_BASE_URL=options.base_url),
        "xtr:odds",
    )

    report = {"jobs": options.jobs, "repeat": options.repeat, "bodies": []}
    for label, path in bodies:
        size = write_served_body(path, options.www)
        print(f"\n== {label}: {path}, served {size:,} bytes")
        body = {"label": label, "path": path, "bytes": size, "batches": {}}
        for batch in batches:
            runs = {"reference": [], "xtr": []}
            for repeat in range(options.repeat):
                order = (reference, xtr) if repeat % 2 == 0 else (xtr, reference)
                for spec in order:
                    run = drain_run(client, spec, options.jobs, batch, options)
                    runs[spec.name].append(run)
                    print(
                        f"  XTR_BATCH={batch:<3} {spec.name:<9} {run['jobs_per_s']:>9,.0f} jobs/s"
                        f" {run['jobs_per_cpu_s']:>9,.0f} jobs/CPU-s"
                        f" {run['peak_rss_mb']:>6.1f} MB peak RSS"
                        f" {run['published']:>7,} published",
                        flush=True,
                    )
            body["batches"][batch] = {
                "reference": summarize(runs["reference"]),
                "xtr": summarize(runs["xtr"]),
                "runs": runs,
            }

        main_figures = body["batches"][options.main_batch]
        rate = options.latency_rate or main_figures["reference"]["jobs_per_s"] / 2
        paced_jobs = max(20, min(options.jobs, round(rate * options.latency_seconds)))
        body["latency"] = {"rate": rate, "jobs": paced_jobs, "batch": options.main_batch}
        for spec in (reference, xtr):
            samples = latency_run(client, spec, paced_jobs, options.main_batch, rate, options)
            body["latency"][spec.name] = {
                "samples": len(samples),
                "p50_ms": percentile(samples, 0.50),
                "p99_ms": percentile(samples, 0.99),
                "max_ms": max(samples) if samples else None,
            }
            figures = body["latency"][spec.name]
            print(
                f"  paced {rate:,.0f} jobs/s, XTR_BATCH={options.main_batch}: {spec.name:<9}"
                f" p50 {fmt(figures['p50_ms'])} ms, p99 {fmt(figures['p99_ms'])} ms"
                f" over {figures['samples']} jobs",
                flush=True,
            )
        report["bodies"].append(body)

    count_jobs = min(options.count_jobs, options.jobs)
    report["round_trips"] = []
    for batch in batches:
        counted = count_round_trips(client, options.redis_port, xtr, count_jobs, batch, options)
        report["round_trips"].append(counted)

    print_report(report, batches, options.main_batch)
    if options.json:
        with open(options.json, "w") as f:
            json.dump(report, f, indent=1, default=str)


def print_report(report, batches, main_batch):
    print(f"\n## Figures at XTR_BATCH={main_batch}: medians of {report['repeat']} run(s) of {report['jobs']} jobs each")
    print("ratio = xtr / reference; latency is enqueue to first published result, paced below capacity\n")
    print("| body | bytes | jobs/s ref | jobs/s xtr | ratio | jobs/CPU-s ref | jobs/CPU-s xtr | ratio | peak RSS MB ref | peak RSS MB xtr | ratio | xtr p50/p99 ms | ref p50/p99 ms | paced rate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for body in report["bodies"]:
        ref = body["batches"][main_batch]["reference"]
        xtr = body["batches"][main_batch]["xtr"]
        lat = body["latency"]
        print(
            f"| {body['label']} | {body['bytes']:,} "
            f"| {fmt(ref['jobs_per_s'])} | {fmt(xtr['jobs_per_s'])} | {fmt_ratio(ratio(xtr['jobs_per_s'], ref['jobs_per_s']))} "
            f"| {fmt(ref['jobs_per_cpu_s'])} | {fmt(xtr['jobs_per_cpu_s'])} | {fmt_ratio(ratio(xtr['jobs_per_cpu_s'], ref['jobs_per_cpu_s']))} "
            f"| {fmt(ref['peak_rss_mb'], 1)} | {fmt(xtr['peak_rss_mb'], 1)} | {fmt_ratio(ratio(xtr['peak_rss_mb'], ref['peak_rss_mb']))} "
            f"| {fmt(lat['xtr']['p50_ms'])} / {fmt(lat['xtr']['p99_ms'])} "
            f"| {fmt(lat['reference']['p50_ms'])} / {fmt(lat['reference']['p99_ms'])} "
            f"| {fmt(lat['rate'])}/s |"
        )

    print("\n## Scaling with XTR_BATCH (medians)\n")
    print("| body | XTR_BATCH | jobs/s ref | jobs/s xtr | ratio | jobs/CPU-s ref | jobs/CPU-s xtr | ratio | CPU-µs/job xtr | peak RSS MB ref | peak RSS MB xtr | xtr scripts/batch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for body in report["bodies"]:
        for batch in batches:
            ref = body["batches"][batch]["reference"]
            xtr = body["batches"][batch]["xtr"]
            per_job_us = xtr["cpu_s"] / report["jobs"] * 1e6
            scripts_per_batch = xtr["evalsha_calls"] / math.ceil(report["jobs"] / batch)
            print(
                f"| {body['label']} | {batch} "
                f"| {fmt(ref['jobs_per_s'])} | {fmt(xtr['jobs_per_s'])} | {fmt_ratio(ratio(xtr['jobs_per_s'], ref['jobs_per_s']))} "
                f"| {fmt(ref['jobs_per_cpu_s'])} | {fmt(xtr['jobs_per_cpu_s'])} | {fmt_ratio(ratio(xtr['jobs_per_cpu_s'], ref['jobs_per_cpu_s']))} "
                f"| {fmt(per_job_us)} | {fmt(ref['peak_rss_mb'], 1)} | {fmt(xtr['peak_rss_mb'], 1)} | {scripts_per_batch:.2f} |"
            )

    print("\n## xtr's Redis commands outside its script, under MONITOR\n")
    print("| XTR_BATCH | jobs | script calls | ceil(jobs / batch) | commands between first and last script call | besides XREADGROUP, per batch | all commands of the run |")
    print("|---:|---:|---:|---:|---|---:|---|")
    for counted in report["round_trips"]:
        window = ", ".join(f"{name} {count}" for name, count in sorted(counted["window_commands"].items()))
        everything = ", ".join(f"{name} {count}" for name, count in sorted(counted["all_commands"].items()))
        print(
            f"| {counted['batch']} | {counted['jobs']} | {counted['script_calls']} | {counted['expected_batches']} "
            f"| {window} | {counted['besides_xreadgroup_per_batch']:.2f} | {everything} |"
        )


def exit_on_sigterm(signum, frame):
    """Turn SIGTERM into SystemExit, so the running worker is killed on the way out."""
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        main()
    except RunFailed as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
