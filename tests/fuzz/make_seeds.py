#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ from the test
fixtures: SMTP transcripts of tests/unit/smtp (both sides), the string
constants of the unit tests (DSNs, armor, MIME), the configuration in
config/, and the messages of tests/fixtures/make_corpus.py when a corpus
folder is given (it needs gpg: run make_corpus.py OUTDIR first; its keys
are test-only and generated per run; only public material ends up here).
Rerun by hand when fixtures change; scripts/fuzz.sh only reads the result.

  python3 tests/fuzz/make_seeds.py [MAKE_CORPUS_OUTDIR]
"""
import codecs
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_SEEDS = 40
MAX_SIZE = 16 * 1024


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def c_unescape(s):
    return codecs.decode(s.encode("latin-1", "backslashreplace"), "unicode_escape").encode("latin-1")


def c_constants(text):
    """The values of `const char* const kX = "..." "...";` style constants."""
    pat = re.compile(
        r'(?:const char\* const|constexpr (?:std::)?string_view|constexpr char|const std::string)'
        r'\s+k\w+(?:\[\])?\s*=\s*((?:"(?:[^"\\\n]|\\.)*"\s*)+);')
    out = []
    for m in pat.finditer(text):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(1))
        out.append(b"".join(c_unescape(p) for p in parts))
    return out


def raw_blocks(text):
    return re.findall(r'R"\((.*?)\)"', text, re.S)


def script_lines(block, mark):
    """The lines of a transcript that start with `mark`, as wire bytes."""
    out = b""
    for line in block.splitlines():
        line = line.strip()
        if not line.startswith(mark) or line.startswith(mark + "@"):
            continue
        out += line[1:].replace("\\r\\n", "\r\n").encode("latin-1", "replace") + b"\r\n"
    return out


def split_header(flags, lengths):
    return bytes([flags, len(lengths)] + lengths)


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(OUT, target)
        os.makedirs(self.dir, exist_ok=True)
        self.seen = set()
        self.count = 0

    def add(self, name, data):
        if not data or len(data) > MAX_SIZE or self.count >= MAX_SEEDS:
            return
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        self.count += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
        with open(os.path.join(self.dir, f"{safe}-{digest[:8]}"), "wb") as f:
            f.write(data)


def smtp_server():
    c = Corpus("smtp_server")
    for fn in sorted(os.listdir(os.path.join(ROOT, "tests/unit/smtp"))):
        if not fn.startswith("session"):
            continue
        for i, block in enumerate(raw_blocks(read("tests/unit/smtp", fn))):
            stream = script_lines(block, ">")
            if not stream:
                continue
            flags = (1 if b"LHLO" in stream.upper() else 0) | (2 if b"STARTTLS" in stream.upper() else 0)
            c.add(f"{fn[:-3]}-{i}", split_header(flags, [1, 7, 64]) + stream)
    base = (b"EHLO client.example\r\nMAIL FROM:<alice@csirt-a.example> SIZE=40 BODY=8BITMIME\r\n"
            b"RCPT TO:<ops@lists.example.org>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n")
    c.add("pipelined-two", split_header(0, []) + base + base[len(b"EHLO client.example\r\n"):] + b"QUIT\r\n")
    c.add("lmtp-two-rcpts", split_header(1, [3]) + base.replace(b"EHLO", b"LHLO").replace(
        b"DATA\r\n", b"RCPT TO:<red@lists.example.org>\r\nDATA\r\n") + b"QUIT\r\n")
    c.add("bare-lf-in-data", split_header(0x40, [5, 200]) + base.replace(b"body\r\n", b"bo\ndy\r\n"))
    c.add("long-line", split_header(0, [255]) + base.replace(b"body", b"x" * 1200))
    c.add("starttls", split_header(2, [9]) + b"EHLO a\r\nSTARTTLS\r\nEHLO a\r\n" + base[21:])
    c.add("errors", split_header(0x80, []) + b"FOO\r\nMAIL\r\nRCPT TO:<x>\r\nDATA\r\nVRFY x\r\nHELP\r\nNOOP\r\nRSET\r\n")


def smtp_client():
    c = Corpus("smtp_client")
    text = read("tests/unit/smtp/client_test.cc")
    greet = b"220 relay\r\n250-relay\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000\r\n"
    for i, block in enumerate(raw_blocks(text)):
        stream = script_lines(block, "<")
        if not stream:
            continue
        if not stream.startswith(b"220"):
            stream = greet + stream
        c.add(f"client_test-{i}", split_header(0x08, [2, 13]) + stream)
    ok = b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n250 2.0.0 queued\r\n"
    c.add("pipelined-ok", split_header(0, []) + greet + ok + b"221 bye\r\n")
    c.add("starttls", split_header(0x02, [1]) + b"220 relay\r\n250-relay\r\n250 STARTTLS\r\n220 go\r\n"
          + greet[11:] + ok)
    c.add("421-mid", split_header(0x10, []) + greet + b"250 2.1.0 Ok\r\n421 4.3.2 closing\r\n")
    c.add("multiline-code-change", split_header(0, []) + b"220-a\r\n221 b\r\n")
    c.add("helo-fallback", split_header(0, []) + b"220 relay\r\n502 no\r\n250 relay\r\n" + ok)
    c.add("rcpt-refused", split_header(0x08, [7]) + greet + b"250 Ok\r\n550 5.1.1 no\r\n450 4.2.0 later\r\n554 no valid\r\n")


def files_in(folder, suffix=""):
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(suffix)]


def mime_like(corpus_dir):
    mime, nested, dsn, tlp, packets = (Corpus("mime"), Corpus("nested"), Corpus("dsn"),
                                       Corpus("tlp"), Corpus("openpgp_packets"))
    for fn in ("dsn_test.cc",):
        for i, v in enumerate(c_constants(read("tests/unit/mime", fn))):
            dsn.add(f"dsn_test-{i}", v)
            mime.add(f"dsn_test-{i}", v)
    for fn in ("shape_test.cc", "robustness_test.cc", "nested_test.cc", "armor_test.cc", "text_head_test.cc"):
        for i, v in enumerate(c_constants(read("tests/unit/mime", fn))):
            mime.add(f"{fn[:-3]}-{i}", v)
            nested.add(f"{fn[:-3]}-{i}", b"\x05" + v)
    for fn in ("armor_test.cc", "packets_walk_test.cc"):
        for i, v in enumerate(c_constants(read("tests/unit/openpgp", fn))):
            packets.add(f"{fn[:-3]}-{i}", v)
    for key in files_in(os.path.join(ROOT, "config/keys"), ".asc")[:4]:
        with open(key, "rb") as f:
            packets.add("pubkey-" + os.path.basename(key)[:20], f.read())
    # Key packet bodies read_encryption_key takes (session_key.h): a
    # Curve25519 ECDH subkey and an RSA 3072 key, test-only values.
    cv_oid = b"\x2b\x06\x01\x04\x01\x97\x55\x01\x05\x01"
    packets.add("cv25519-body", b"\x04\x5f\x00\x00\x00\x12\x0a" + cv_oid + b"\x01\x07\x40" +
                b"\x11" * 32 + b"\x03\x01\x08\x07")
    packets.add("rsa3072-body", b"\x04\x5f\x00\x00\x00\x01\x0c\x00\xc1" + b"\x35" * 383 +
                b"\x00\x11\x01\x00\x01")
    nested.add("html-entities", b"\x03<p>&#45;&#x2D;---BEGIN PGP<br>MESSAGE</p>")
    nested.add("nbsp", b"\x01-----BEGIN\xc2\xa0PGP MESSAGE-----\r\nhQ==\r\n-----END PGP MESSAGE-----\r\n")
    nested.add("dash-escaped", b"\x07- -----BEGIN PGP MESSAGE-----\n")
    nested.add("smime-der", b"\x00\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0\x80")
    # Subjects and bodies for the label scan: "subject\nbody".
    for i, (subj, body) in enumerate([
            (b"[TLP:AMBER] Phishing wave", b"Hello,\n\nTLP:RED\nmore"),
            (b"Re: [TLP:GREEN] x", b"> [TLP:RED] quoted\n"),
            (b"=?utf-8?Q?=5BTLP=3ARED=5D?= report", b""),
            (b"=?utf-8?B?W1RMUDpBTUJFUitTVFJJQ1Rd?=", b"TLP AMBER STRICT\n"),
            (b"TLP:AMBERX XTLP:RED TLP:REDACTED", b"TLP-RED\nTLP::GREEN\nTLP:RED-team\n"),
            (b"tlp:amber + strict", b"\n\n\n\n\n\nTLP:RED on line six\n"),
            (b"TLP:WHITE TLP:CLEAR", b"TLP:\xc2\xa0RED\r\n"),
            (b"TLP:TLP:GREEN RED", b"TLP_AMBER_STRICT"),
    ]):
        tlp.add(f"label-{i}", subj + b"\n" + body)
    if corpus_dir:
        for path in files_in(os.path.join(corpus_dir, "messages"), ".eml"):
            with open(path, "rb") as f:
                data = f.read()
            name = os.path.basename(path)[:-4]
            mime.add(name, data)
            subject = re.search(rb"^Subject: (.*)$", data, re.M)
            body = data.split(b"\n\n", 1)[-1] if b"\r\n\r\n" not in data else data.split(b"\r\n\r\n", 1)[-1]
            tlp.add(name, (subject.group(1).rstrip(b"\r") if subject else b"") + b"\n" + body[:2000])
            nested.add(name, b"\x02" + body)
            # The binary packets of the first armored message, for the splitter.
            m = re.search(rb"-----BEGIN PGP MESSAGE-----\r?\n(?:[^\r\n]+\r?\n)*?\r?\n(.*?)\r?\n=",
                          data, re.S)
            if m:
                import base64
                try:
                    packets.add(name, base64.b64decode(re.sub(rb"\s", b"", m.group(1))))
                except Exception:
                    pass


def requests_seeds():
    c = Corpus("requests")
    text = read("tests/unit/requests/commands_test.cc")
    for i, s in enumerate(re.findall(r'\{"[^"]*", "((?:[^"\\]|\\.)*)"', text)):
        c.add(f"commands_test-{i}", c_unescape(s))
    c.add("all", b"help\r\nkey\r\nmembers\r\nupdate-key\r\nmy-key\r\n-- \r\nsig\r\n")


def config_seeds(corpus_dir):
    c = Corpus("config")

    def no_paths(main):
        # fuzz_config skips main files that set paths: drop the section.
        return re.sub(r"(?ms)^\[paths\].*?(?=^\[|\Z)", "", main)

    sets = [(os.path.join(ROOT, "config"), "config")]
    sets.append((os.path.join(ROOT, "config/packaged"), "packaged"))
    if corpus_dir:
        sets.append((os.path.join(corpus_dir, "config"), "make_corpus"))
    for folder, name in sets:
        main = no_paths(open(os.path.join(folder, "tlpmail.toml"), encoding="utf-8").read())
        main = "\n".join(l for l in main.splitlines() if "tls_" not in l)
        directory = open(os.path.join(folder, "directory.toml"), encoding="utf-8").read()
        lists = [open(p, encoding="utf-8").read() for p in files_in(os.path.join(folder, "lists.d"), ".toml")]
        c.add(name + "-main-only", main.encode())
        c.add(name, "\n%%\n".join([main, directory] + lists[:3]).encode())
        for i, l in enumerate(lists[:3]):
            c.add(f"{name}-list{i}", "\n%%\n".join([main, directory, l]).encode())


def main():
    corpus_dir = sys.argv[1] if len(sys.argv) > 1 else None
    smtp_server()
    smtp_client()
    mime_like(corpus_dir)
    requests_seeds()
    config_seeds(corpus_dir)
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))))


if __name__ == "__main__":
    main()
