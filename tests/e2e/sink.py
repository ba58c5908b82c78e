#!/usr/bin/env python3
"""A controllable SMTP sink for tests (RFC 5321 server side, asyncio,
standard library only): it takes messages on 127.0.0.1 and writes each one
as DIR/<n>.eml (the exact bytes after dot-unstuffing) plus DIR/<n>.json
(envelope, size, connection number, TLS), or answers with chosen errors.
It is a test peer, not an MTA: no relaying, no authentication, no queue.

  python3 sink.py --port 0 --port-file F --dir D [--defer-first N]
      [--defer-rcpt ADDR]... [--reject-rcpt ADDR]... [--no-pipelining]
      [--tls-cert C --tls-key K] [--max-messages N] [--exit-after SECONDS]
      [--delay-ms MS]

The bound port is printed on stdout (one line) and written to --port-file
(atomically: a reader never sees half a number). Files appear by rename
(.eml first, then .json), so a reader that sees N.json may read N.eml, and
both are on disk before the 250 is sent. One line per transaction and per
connection on stderr. Exits 0 on SIGTERM/SIGINT, after --exit-after
seconds, or after --max-messages accepted messages. --delay-ms makes every
end of DATA wait that long before the message is written and answered (a
slow relay; other connections go on meanwhile).
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

LINE_LIMIT = 64 * 1024       # longest command or body line read at once
COMMAND_TIMEOUT = 300.0      # seconds without a line: the connection is closed
HOSTNAME = "sink.test"


def log(text):
    print("sink: " + text, file=sys.stderr, flush=True)


def write_atomically(path, data):
    """Writes to a temp name in the same folder, then renames."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def mailbox(arg):
    """The mailbox between < and > of a MAIL/RCPT argument, and the rest
    (parameters); None when there are no brackets."""
    start = arg.find("<")
    end = arg.find(">", start + 1)
    if start < 0 or end < 0:
        return None, ""
    return arg[start + 1:end], arg[end + 1:].strip()


def path_argument(arg, prefix):
    """Whether a MAIL/RCPT argument starts with `prefix` ("FROM:", "TO:", in
    any case), and the mailbox and parameters after it (see mailbox())."""
    if not arg.upper().startswith(prefix):
        return False, None, ""
    box, params = mailbox(arg[len(prefix):])
    return True, box, params


class Sink:
    def __init__(self, args):
        self.args = args
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)
        self.reject = {a.lower() for a in args.reject_rcpt}
        self.defer = {a.lower() for a in args.defer_rcpt}
        self.connections = 0
        self.messages = 0       # accepted and written
        self.data_ends = 0      # message ends seen (accepted or deferred)
        self.writers = set()
        self.done = asyncio.Event()

    # --- one connection ---

    async def handle(self, reader, writer):
        self.connections += 1
        conn = self.connections
        self.writers.add(writer)
        peer = writer.get_extra_info("peername")
        log(f"conn={conn} connect client={peer[0]}:{peer[1]}")
        state = {"helo": None, "tls": False, "from": None, "rcpts": [],
                 "params": ""}
        try:
            await self.reply(writer, f"220 {HOSTNAME} ESMTP sink ready")
            while not self.done.is_set():
                line = await self.read_line(reader)
                if line is None:
                    break
                if not line.endswith(b"\n"):
                    break  # EOF in the middle of a line
                text = line.rstrip(b"\r\n").decode("latin-1")
                verb, _, arg = text.partition(" ")
                verb = verb.upper()
                if not await self.command(conn, state, verb, arg.strip(),
                                          reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as e:
            log(f"conn={conn} lost error={e!r}")
        except asyncio.TimeoutError:
            log(f"conn={conn} timeout")
        finally:
            self.writers.discard(writer)
            log(f"conn={conn} disconnect")
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError, OSError):
                pass

    async def read_line(self, reader):
        try:
            return await asyncio.wait_for(reader.readline(), COMMAND_TIMEOUT)
        except ValueError:  # longer than LINE_LIMIT: the connection is closed
            log(f"line longer than {LINE_LIMIT} octets")
            return None

    async def reply(self, writer, text):
        writer.write(text.encode("ascii") + b"\r\n")
        await writer.drain()

    async def refuse_first(self, writer, checks):
        """Replies with the reply of the first (failed, reply) check that
        failed, in order; True when one did (the command is refused)."""
        for failed, text in checks:
            if failed:
                await self.reply(writer, text)
                return True
        return False

    def ehlo_lines(self, state):
        lines = [HOSTNAME]
        if not self.args.no_pipelining:
            lines.append("PIPELINING")
        lines.append("8BITMIME")
        lines.append(f"SIZE {self.args.size_limit}" if self.args.size_limit else "SIZE")
        lines.append("ENHANCEDSTATUSCODES")
        if self.tls and not state["tls"]:
            lines.append("STARTTLS")
        out = [f"250-{l}" for l in lines[:-1]] + [f"250 {lines[-1]}"]
        return "\r\n".join(out)

    @staticmethod
    def reset(state):
        state["from"] = None
        state["rcpts"] = []
        state["params"] = ""

    async def command(self, conn, state, verb, arg, reader, writer):
        """Answers one command; False ends the connection."""
        if verb == "EHLO" or verb == "HELO":
            if not arg:
                await self.reply(writer, "501 5.5.4 Syntax: " + verb + " hostname")
                return True
            state["helo"] = arg
            self.reset(state)
            if verb == "EHLO":
                await self.reply(writer, self.ehlo_lines(state))
            else:
                await self.reply(writer, f"250 {HOSTNAME}")
            return True
        if verb == "STARTTLS":
            if not self.tls or state["tls"]:
                await self.reply(writer, "454 4.7.0 TLS not available")
                return True
            await self.reply(writer, "220 2.0.0 Ready to start TLS")
            # RFC 3207 5: anything pipelined behind STARTTLS is dropped.
            buffered = getattr(reader, "_buffer", None)
            if buffered:
                log(f"conn={conn} starttls discarded={len(buffered)}")
                buffered.clear()
            await writer.start_tls(self.tls)
            state["tls"] = True
            state["helo"] = None
            self.reset(state)
            log(f"conn={conn} starttls ok")
            return True
        if verb == "MAIL":
            syntax, box, params = path_argument(arg, "FROM:")
            if await self.refuse_first(writer, [
                    (state["helo"] is None, "503 5.5.1 Error: send HELO/EHLO first"),
                    (state["from"] is not None, "503 5.5.1 Error: nested MAIL command"),
                    (not syntax, "501 5.5.4 Syntax: MAIL FROM:<address>"),
                    (box is None, "501 5.1.7 Bad sender address syntax")]):
                return True
            for p in params.split():
                key, _, value = p.partition("=")
                if key.upper() == "SIZE" and self.args.size_limit and value.isdigit() \
                        and int(value) > self.args.size_limit:
                    await self.reply(writer, "552 5.3.4 Message size exceeds fixed limit")
                    return True
            state["from"] = box
            state["params"] = params
            await self.reply(writer, "250 2.1.0 Ok")
            return True
        if verb == "RCPT":
            syntax, box, _ = path_argument(arg, "TO:")
            if await self.refuse_first(writer, [
                    (state["from"] is None, "503 5.5.1 Error: need MAIL command"),
                    (not syntax, "501 5.5.4 Syntax: RCPT TO:<address>"),
                    (not box, "501 5.1.3 Bad recipient address syntax")]):
                return True
            if box.lower() in self.reject:
                await self.reply(writer, f"550 5.1.1 <{box}>: Recipient address rejected")
            elif box.lower() in self.defer:
                await self.reply(writer, f"450 4.2.0 <{box}>: Recipient temporarily unavailable")
            else:
                state["rcpts"].append(box)
                await self.reply(writer, "250 2.1.5 Ok")
            return True
        if verb == "DATA":
            if await self.refuse_first(writer, [
                    (state["from"] is None, "503 5.5.1 Error: need MAIL command"),
                    (not state["rcpts"], "554 5.5.1 Error: no valid recipients")]):
                return True
            await self.reply(writer, "354 End data with <CR><LF>.<CR><LF>")
            body = await self.read_body(reader)
            if body is None:
                return False
            await self.finish(conn, state, body, writer)
            return not self.done.is_set()
        if verb == "RSET":
            self.reset(state)
            await self.reply(writer, "250 2.0.0 Ok")
            return True
        if verb == "NOOP":
            await self.reply(writer, "250 2.0.0 Ok")
            return True
        if verb == "VRFY":
            await self.reply(writer, "252 2.0.0 Cannot VRFY")
            return True
        if verb == "QUIT":
            await self.reply(writer, "221 2.0.0 Bye")
            return False
        await self.reply(writer, "500 5.5.2 Error: command not recognized")
        return True

    async def read_body(self, reader):
        """The message up to CRLF.CRLF, dot-unstuffed; None on EOF."""
        parts = []
        while True:
            line = await self.read_line(reader)
            if not line or not line.endswith(b"\n"):
                return None
            if line == b".\r\n":
                return b"".join(parts)
            if line.startswith(b"."):
                line = line[1:]
            parts.append(line)

    async def finish(self, conn, state, body, writer):
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000.0)
        self.data_ends += 1
        sender = state["from"]
        rcpts = list(state["rcpts"])
        params = state["params"]
        self.reset(state)
        summary = f"conn={conn} from=<{sender}> to={','.join(rcpts)} size={len(body)}"
        if self.data_ends <= self.args.defer_first:
            log(summary + " reply=451")
            await self.reply(writer, "451 4.3.0 Error: try again later")
            return
        if self.args.size_limit and len(body) > self.args.size_limit:
            log(summary + " reply=552")
            await self.reply(writer, "552 5.3.4 Message size exceeds fixed limit")
            return
        self.messages += 1
        n = self.messages
        meta = {"mail_from": sender, "rcpt_to": rcpts, "size": len(body),
                "connection": conn, "tls": state["tls"], "helo": state["helo"],
                "mail_params": params}
        write_atomically(os.path.join(self.args.dir, f"{n}.eml"), body)
        write_atomically(os.path.join(self.args.dir, f"{n}.json"),
                         json.dumps(meta, sort_keys=True).encode() + b"\n")
        log(summary + f" msg={n} reply=250")
        await self.reply(writer, f"250 2.0.0 Ok: queued as {n}")
        if self.args.max_messages and n >= self.args.max_messages:
            self.done.set()

    # --- the server ---

    async def run(self):
        server = await asyncio.start_server(self.handle, self.args.host, self.args.port,
                                            limit=LINE_LIMIT)
        port = server.sockets[0].getsockname()[1]
        if self.args.port_file:
            write_atomically(self.args.port_file, f"{port}\n".encode())
        print(port, flush=True)
        log(f"listening on {self.args.host}:{port}")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.done.set)
        if self.args.exit_after:
            loop.call_later(self.args.exit_after, self.done.set)
        await self.done.wait()
        server.close()
        for w in list(self.writers):
            w.close()
        await asyncio.sleep(0)
        log(f"exit messages={self.messages} connections={self.connections}")


def main():
    p = argparse.ArgumentParser(description="A controllable SMTP sink for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--dir", required=True, help="where N.eml and N.json go")
    p.add_argument("--defer-first", type=int, default=0,
                   help="answer 451 4.3.0 to the first N message ends")
    p.add_argument("--defer-rcpt", action="append", default=[],
                   help="answer 450 4.2.0 to RCPT TO this address")
    p.add_argument("--reject-rcpt", action="append", default=[],
                   help="answer 550 5.1.1 to RCPT TO this address")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--size-limit", type=int, default=0,
                   help="advertise SIZE N and refuse larger messages (0: no limit)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--max-messages", type=int, default=0)
    p.add_argument("--exit-after", type=float, default=0)
    p.add_argument("--delay-ms", type=int, default=0,
                   help="wait this long at each end of DATA before answering")
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(Sink(args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
