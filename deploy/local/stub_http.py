"""HTTP plumbing shared by the local stubs (registry_stub.py, coreview_stub.py).

A threading HTTP/1.1 server with keep-alive and Nagle disabled (a Python
server without TCP_NODELAY stalls about 40 ms per request), bounded body
reading, JSON replies with an exact Content-Length, connection resets, and one
log line per request on stderr. Python standard library only.
"""

import io
import json
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024


class BadBody(Exception):
    """The request body is malformed (length or chunked framing)."""


class BodyTooLarge(Exception):
    """The request body is larger than the handler's max_body."""


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY on every accepted socket
    server_version = "bwm-stub"
    log_name = "stub"
    max_body = 10 * 1024 * 1024

    def read_body(self):
        """Returns the request body. Raises BodyTooLarge after discarding a
        Content-Length body over max_body (so the connection stays usable),
        BadBody on bad framing."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise BadBody("bad Content-Length") from None
        if length < 0:
            raise BadBody("bad Content-Length")
        if length > self.max_body:
            while length > 0:
                got = self.rfile.read(min(CHUNK, length))
                if not got:
                    break
                length -= len(got)
            raise BodyTooLarge()
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadBody("body shorter than Content-Length")
        return body

    def _read_chunked(self):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadBody("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > self.max_body:
                self.close_connection = True
                raise BodyTooLarge()
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def send_json(self, status, obj, content_type="application/json", headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def reset_connection(self):
        """Closes the connection with an RST and no response (SO_LINGER 0)."""
        self.log(f"{self.command} {self.path} reset")
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket closes only once its file objects are closed too.
        self.wfile.close()
        self.rfile.close()
        self.connection.close()
        self.wfile = io.BytesIO()  # http.server flushes wfile after the handler returns

    def log(self, text):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        sys.stderr.write(f"{stamp} {self.log_name}: {self.client_address[0]} {text}\n")

    def log_request(self, code="-", size="-"):
        self.log(f"{self.command} {self.path} {getattr(code, 'value', code)}")

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        self.log(format % args)


def serve(server, name):
    """Serves until SIGINT; logs the listening address first."""
    host, port = server.server_address[:2]
    sys.stderr.write(f"{name}: listening on http://{host}:{port}\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
