"""End-to-end tests of monitoring (issue 13): `tlpmailctl status` against a
stopped, a running and a killed tlpmaild, and the Prometheus endpoint of
[metrics]: /metrics scraped over HTTP, parsed with a strict parser of the
text exposition format (and with prometheus_client's parser when it is
installed, python3-prometheus-client), counters that move when a message
is posted and one is refused, the queue gauges when the relay is down, the
periodic retention job's run. Real gpg, real SMTP sink."""

import http.client
import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import delivery_test as dt  # noqa: E402
import harness  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")

try:  # Debian: python3-prometheus-client (scripts/install-deps.sh)
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # another interpreter than the system's: the strict parser alone
    text_string_to_metric_families = None


def tearDownModule():
    dt.tearDownModule()


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"'
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
VALUE_RE = re.compile(r"^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$")


def parse_exposition(text):
    """Strict parser of the text format 0.0.4 as tlpmaild writes it: every
    family has HELP then TYPE before its samples, samples belong to the
    family declared last (with _bucket/_sum/_count for histograms), label
    values use only the three escapes, histogram buckets are cumulative
    and end in +Inf equal to _count. Returns {family: {"type", "help",
    "samples": [(name, labels dict, float)]}}; raises AssertionError."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families, current, state = {}, None, None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name), where
            assert name not in families, "family declared twice: " + where
            families[name] = {"type": None, "help": help_text, "samples": []}
            current, state = name, "help"
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name == current and state == "help", "TYPE must follow its HELP: " + where
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), where
            families[name]["type"] = kind
            state = "type"
        elif line.startswith("#") or not line:
            raise AssertionError("unexpected comment or blank line: " + where)
        else:
            m = SAMPLE_RE.match(line)
            assert m, "not a sample: " + where
            name, labels_text, value = m.group(1), m.group(2), m.group(m.lastindex)
            assert state == "type" and current is not None, where
            kind = families[current]["type"]
            allowed = ({current + s for s in ("_bucket", "_sum", "_count")}
                       if kind == "histogram" else {current})
            assert name in allowed, f"sample of another family ({current}): " + where
            assert VALUE_RE.match(value), "bad value: " + where
            labels = {}
            for k, v in re.findall(LABEL, labels_text or ""):
                assert k not in labels, "label twice: " + where
                labels[k] = v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
            families[current]["samples"].append((name, labels, float(value)))
    for name, f in families.items():
        if f["type"] == "counter":
            assert all(v >= 0 for _, _, v in f["samples"]), name
        if f["type"] == "histogram":
            series = {}
            for s, labels, v in f["samples"]:
                key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if s.endswith("_bucket"):
                    series[key]["buckets"].append((float(labels["le"]), v))
                elif s.endswith("_count"):
                    series[key]["count"] = v
            for key, s in series.items():
                bounds = [b for b, _ in s["buckets"]]
                counts = [c for _, c in s["buckets"]]
                assert bounds == sorted(bounds) and bounds[-1] == math.inf, (name, bounds)
                assert counts == sorted(counts), f"{name}: buckets not cumulative {counts}"
                assert counts[-1] == s["count"], f"{name}: +Inf bucket != _count"
    return families


def value(families, family, sample=None, **labels):
    """The value of one sample (0.0 when the series does not exist yet)."""
    for name, l, v in families.get(family, {}).get("samples", []):
        if name == (sample or family) and all(l.get(k) == x for k, x in labels.items()):
            return v
    return 0.0


class MonitoringTest(dt.RelayFaultTest):
    """One list (alice, bob, carol, soc), a sink, [metrics] on a free port."""

    def setUp(self):
        self.sink = harness.Sink()
        self.addCleanup(self.sink.close)
        self.sink.start()
        self.make_site(self.sink.port)
        self.metrics_port = harness.free_port()
        with open(self.site.config, "a") as f:
            f.write(f'\n[metrics]\nlisten = "127.0.0.1:{self.metrics_port}"\n')

    def start(self):
        self.site.start("--job-tick-ms", "200")
        self.list_fpr, list_pub = self.site.list_key()
        for person in self.p.values():
            person.home.import_keys(list_pub)

    def ctl(self, *args):
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.site.config] +
                           list(args), capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def status(self):
        code, out, err = self.ctl("status", "--json")
        return code, json.loads(out)

    def http(self, method, path):
        c = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=20)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode()
        finally:
            c.close()

    def scrape(self):
        status, headers, body = self.http("GET", "/metrics")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        families = parse_exposition(body)
        if text_string_to_metric_families is not None:
            names = {f.name for f in text_string_to_metric_families(body)}
            self.assertIn("tlpmail_messages", names)  # the client drops _total
        return families

    def test_status_and_metrics(self):
        p = self.p
        # Not running yet.
        code, out, err = self.ctl("status")
        self.assertEqual(code, 1, out + err)
        self.assertIn("tlpmaild: not running", out)
        self.assertIn("tlpmaild is not running", out)

        self.start()
        code, st = self.status()
        self.assertEqual(code, 0, st)
        self.assertTrue(st["running"] and st["ok"], st)
        self.assertEqual(st["pid"], self.site.daemon.proc.pid)
        self.assertEqual(st["listen"], [f"127.0.0.1:{self.site.daemon.port}"])
        self.assertEqual(st["metrics"], f"127.0.0.1:{self.metrics_port}")
        self.assertRegex(st["version"], r"^\d+\.\d+\.\d+$")
        self.assertGreaterEqual(st["uptime_seconds"], 0)
        self.assertEqual(st["last_delivery_at"], 0)
        self.assertEqual(st["problems"], [])

        before = self.scrape()
        types = {n: f["type"] for n, f in before.items()}
        for name, kind in (("tlpmail_messages_total", "counter"),
                           ("tlpmail_copies_total", "counter"),
                           ("tlpmail_outbox_copies", "gauge"),
                           ("tlpmail_outbox_oldest_deferred_age_seconds", "gauge"),
                           ("tlpmail_spool_messages", "gauge"),
                           ("tlpmail_intake_seconds", "histogram"),
                           ("tlpmail_fanout_seconds", "histogram"),
                           ("tlpmail_delivery_seconds", "histogram"),
                           ("tlpmail_member_keys", "gauge"),
                           ("tlpmail_list_key_expiry_days", "gauge"),
                           ("tlpmail_comcheck_success_ratio", "gauge")):
            self.assertEqual(types.get(name), kind, name)
        self.assertEqual(value(before, "tlpmail_messages_total", verdict="accepted"), 0)
        self.assertEqual(value(before, "tlpmail_member_keys", status="ok"), 4)
        days = value(before, "tlpmail_list_key_expiry_days", list=dt.OPS)
        self.assertTrue(1000 < days <= 1096, days)

        # One accepted posting, one refused message.
        self.post("[TLP:AMBER] Counted", "BODY-MARKER-" + secrets.token_hex(8))
        code, text = harness.smtp_send(self.site.daemon.port, p["alice"].email, [dt.OPS],
                                       harness.message(sender=p["alice"].email, to=dt.OPS))
        self.assertEqual(code, 550, text)
        self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED],
                         "three delivered copies")

        def moved():
            m = self.scrape()
            return m if value(m, "tlpmail_copies_total", state="delivered") == 3 else None
        after = dt.wait_for(moved, "tlpmail_copies_total{state=delivered} at 3", timeout=10)
        self.assertEqual(value(after, "tlpmail_messages_total", verdict="accepted",
                               reason="none"), 1)
        refused = [(l, v) for n, l, v in after["tlpmail_messages_total"]["samples"]
                   if l["verdict"] == "refused"]
        self.assertEqual(len(refused), 1, refused)
        self.assertNotEqual(refused[0][0]["reason"], "none")
        self.assertEqual(refused[0][1], 1)
        self.assertEqual(value(after, "tlpmail_intake_replies_total", **{"class": "2xx"}), 1)
        self.assertEqual(value(after, "tlpmail_intake_replies_total", **{"class": "5xx"}), 1)
        self.assertEqual(value(after, "tlpmail_intake_seconds", "tlpmail_intake_seconds_count"), 2)
        self.assertEqual(value(after, "tlpmail_fanout_seconds", "tlpmail_fanout_seconds_count"), 1)
        self.assertEqual(
            value(after, "tlpmail_delivery_seconds", "tlpmail_delivery_seconds_count"), 3)
        self.assertEqual(value(after, "tlpmail_outbox_copies", state="delivered"), 3)
        self.assertGreater(value(after, "tlpmail_last_delivery_timestamp_seconds"), 0)

        code, st = self.status()
        self.assertEqual(code, 0, st)
        self.assertEqual(st["copies"]["delivered"], 3)
        self.assertGreater(st["last_delivery_at"], 0)

        # The endpoint answers nothing else.
        self.assertEqual(self.http("GET", "/")[0], 404)
        self.assertEqual(self.http("POST", "/metrics")[0], 405)
        self.assertEqual(self.http("HEAD", "/metrics")[0], 200)

        # The retention job ran at start and succeeded.
        dt.wait_for(lambda: self.site.query(
            "SELECT ok FROM maintenance_runs WHERE job = 'retention'") == [(1,)],
            "the retention job's run", timeout=20, log=self.log)
        job_ok = value(self.scrape(), "tlpmail_maintenance_job_ok", job="retention")
        self.assertEqual(job_ok, 1)

        # The relay goes away; a copy waits "for more than an hour".
        self.sink.stop()
        self.post("[TLP:AMBER] Waiting", "BODY-MARKER-" + secrets.token_hex(8))
        self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED] +
                         [("copy", p[k].email, "deferred") for k in self.EXPECTED],
                         "the second posting's copies deferred")
        db = self.site.db()
        db.execute("UPDATE outbox_copies SET queued_at = queued_at - 7200 "
                   "WHERE state = 'deferred'")
        db.commit()
        db.close()
        code, out, err = self.ctl("status")
        self.assertEqual(code, 1, out + err)
        self.assertRegex(out, r"3 copies deferred for more than an hour")
        m = self.scrape()
        self.assertGreaterEqual(value(m, "tlpmail_outbox_oldest_deferred_age_seconds"), 7200)
        self.assertEqual(value(m, "tlpmail_outbox_copies", state="deferred"), 3)

        # A clean stop removes the status file; kill -9 leaves a stale one.
        self.stop_daemon()
        self.assertFalse(os.path.exists(os.path.join(self.site.state, "tlpmaild.status")))
        code, st = self.status()
        self.assertEqual(code, 1)
        self.assertFalse(st["running"])
        self.site.start()
        self.site.daemon.kill()
        code, st = self.status()
        self.assertEqual(code, 1)
        self.assertFalse(st["running"])
        self.assertTrue(any("did not stop cleanly" in p for p in st["problems"]), st)


if __name__ == "__main__":
    unittest.main()
