#!/usr/bin/env python3
"""Schema registry stub for the local stack.

Implements the subset of the Confluent Schema Registry REST API that bwm and
the Python test clients use, for Avro schemas, with the same JSON shapes,
content type and error bodies. Schema ids are global and start at 1; one
schema (compared in canonical JSON form) has one id in every subject.
Subjects and schemas persist in a JSON file (--data), written atomically, so a
restart keeps ids. Python standard library only.

It also answers two AWS Glue Schema Registry calls, for Glue-framed records:
POST with X-Amz-Target AWSGlue.RegisterSchemaVersion ({"SchemaId":
{"SchemaName": ...}, "SchemaDefinition": ...} -> {"SchemaVersionId": uuid})
and AWSGlue.GetSchemaVersion ({"SchemaVersionId": uuid} -> the definition).
Glue calls are not authenticated here; GET /_stub/glue-requests lists the
target and Authorization header of each, so tests can see the SigV4 signing.

For tests of the clients' behaviour, POST /_stub/fail {"count": N, "status":
S} makes the next N registry requests answer status S (a fault injected by
the test, not by chance), and GET /_stub/requests lists the method and path
of every registry request so far (the /_stub and /health paths aside).

Usage: registry_stub.py --port 8081 [--data FILE] [--user U --password P]
"""

import argparse
import base64
import hmac
import json
import os
import tempfile
import threading
import urllib.parse
import uuid

from stub_http import BadBody, BodyTooLarge, StubHandler, StubServer, serve

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


SUBJECT_NOT_FOUND = (404, 40401, "Subject not found")
VERSION_NOT_FOUND = (404, 40402, "Version not found")
SCHEMA_NOT_FOUND = (404, 40403, "Schema not found")


def parse_schema(text):
    """Returns (canonical form, compact form) of an Avro schema JSON string."""
    if not isinstance(text, str):
        raise RegistryError(422, 42201, "Invalid schema: 'schema' must be a string")
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise RegistryError(422, 42201, f"Invalid schema: {e}") from None
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return canonical, json.dumps(doc, separators=(",", ":"))


class Registry:
    """Schemas by global id, and per subject the schema id of each version."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.path = path
        self.schemas = {}  # id -> compact schema string
        self.ids = {}  # canonical schema -> id
        self.subjects = {}  # subject -> [id of version 1, id of version 2, ...]
        self.glue = {}  # Glue schema version id -> {"name", "version", "definition"}
        self.glue_requests = []  # [{"target", "authorization"}] of Glue calls, for tests
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            for sid, schema in data["schemas"].items():
                self.schemas[int(sid)] = schema
                self.ids[parse_schema(schema)[0]] = int(sid)
            self.subjects = data["subjects"]
            self.glue = data.get("glue", {})

    def _save(self):
        if not self.path:
            return
        data = {"schemas": {str(i): s for i, s in self.schemas.items()}, "subjects": self.subjects,
                "glue": self.glue}
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".registry-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def register(self, subject, text):
        canonical, compact = parse_schema(text)
        with self.lock:
            sid = self.ids.get(canonical)
            if sid is None:
                sid = max(self.schemas, default=0) + 1
                self.schemas[sid] = compact
                self.ids[canonical] = sid
            versions = self.subjects.setdefault(subject, [])
            if sid not in versions:
                versions.append(sid)
                self._save()
            return sid

    def lookup(self, subject, text):
        canonical, _ = parse_schema(text)
        with self.lock:
            versions = self._versions(subject)
            sid = self.ids.get(canonical)
            if sid not in versions:
                raise RegistryError(*SCHEMA_NOT_FOUND)
            return self._describe(subject, versions.index(sid) + 1)

    def schema(self, sid):
        with self.lock:
            if sid not in self.schemas:
                raise RegistryError(*SCHEMA_NOT_FOUND)
            return self.schemas[sid]

    def subject_names(self):
        with self.lock:
            return sorted(self.subjects)

    def versions(self, subject):
        with self.lock:
            return list(range(1, len(self._versions(subject)) + 1))

    def version(self, subject, version):
        with self.lock:
            versions = self._versions(subject)
            if version in ("latest", "-1"):
                number = len(versions)
            else:
                try:
                    number = int(version)
                except ValueError:
                    number = 0
                if number < 1:
                    raise RegistryError(
                        422, 42202, f"The specified version '{version}' is not a valid version id. "
                        'Allowed values are between [1, 2^31-1] and the string "latest"')
            if number > len(versions):
                raise RegistryError(*VERSION_NOT_FOUND)
            return self._describe(subject, number)

    def glue_register(self, name, definition):
        """A Glue schema version id for the definition under the schema name."""
        canonical, compact = parse_schema(definition)
        with self.lock:
            versions = [v for v in self.glue.values() if v["name"] == name]
            for vid, v in self.glue.items():
                if v["name"] == name and parse_schema(v["definition"])[0] == canonical:
                    return vid, v["version"]
            vid = str(uuid.uuid4())
            self.glue[vid] = {"name": name, "version": len(versions) + 1, "definition": compact}
            self._save()
            return vid, len(versions) + 1

    def glue_get(self, vid):
        with self.lock:
            return self.glue.get(vid)

    def _versions(self, subject):
        if subject not in self.subjects:
            raise RegistryError(*SUBJECT_NOT_FOUND)
        return self.subjects[subject]

    def _describe(self, subject, number):
        sid = self.subjects[subject][number - 1]
        return {"subject": subject, "version": number, "id": sid, "schema": self.schemas[sid]}


class Handler(StubHandler):
    log_name = "registry"

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        try:
            body = self.read_body()
        except BodyTooLarge:
            return self._error(413, 413, "Request body too large")
        except BadBody as e:
            self.close_connection = True
            return self._error(400, 400, str(e))
        path = urllib.parse.urlsplit(self.path).path
        if path == "/health":
            return self.send_json(200, {"status": "ok"})
        if path == "/_stub/glue-requests" and self.command == "GET":
            return self.send_json(200, self.server.registry.glue_requests)
        if path == "/_stub/requests" and self.command == "GET":
            return self.send_json(200, self.server.requests)
        if path == "/_stub/fail" and self.command == "POST":
            return self._set_failures(body)
        with self.server.lock:
            self.server.requests.append({"method": self.command, "path": path})
            status = None
            if self.server.failures["count"] > 0:
                self.server.failures["count"] -= 1
                status = self.server.failures["status"]
        if status is not None:
            return self._error(status, status, "Failure injected by the test")
        target = self.headers.get("X-Amz-Target")
        if target and self.command == "POST":
            return self._glue(target, body)
        if not self._authorized():
            return self._error(401, 401, "Unauthorized",
                               headers=[("WWW-Authenticate", 'Basic realm="schema-registry"')])
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        try:
            reply = self._route(self.command, parts, body)
        except RegistryError as e:
            return self._error(e.status, e.code, e.message)
        if reply is None:
            return self._error(404, 404, "HTTP 404 Not Found")
        self.send_json(200, reply, content_type=CONTENT_TYPE)

    def _route(self, method, parts, body):
        registry = self.server.registry
        n = len(parts)
        if method == "GET":
            if n == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
                return {"schema": registry.schema(int(parts[2]))}
            if parts == ["subjects"]:
                return registry.subject_names()
            if n == 3 and parts[0] == "subjects" and parts[2] == "versions":
                return registry.versions(parts[1])
            if n == 4 and parts[0] == "subjects" and parts[2] == "versions":
                return registry.version(parts[1], parts[3])
        elif method == "POST":
            if n == 3 and parts[0] == "subjects" and parts[2] == "versions":
                return {"id": registry.register(parts[1], self._schema_text(body))}
            if n == 2 and parts[0] == "subjects":
                return registry.lookup(parts[1], self._schema_text(body))
        return None

    def _glue(self, target, body):
        """The Glue Schema Registry calls, in AWS's JSON 1.1 protocol."""
        registry = self.server.registry
        registry.glue_requests.append({"target": target,
                                       "authorization": self.headers.get("Authorization")})
        ctype = "application/x-amz-json-1.1"
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self.send_json(400, {"__type": "InvalidInputException",
                                        "Message": "Malformed request body"}, content_type=ctype)
        if target == "AWSGlue.RegisterSchemaVersion":
            name = (request.get("SchemaId") or {}).get("SchemaName")
            definition = request.get("SchemaDefinition")
            if not name or not isinstance(definition, str):
                return self.send_json(400, {"__type": "InvalidInputException",
                                            "Message": "SchemaId.SchemaName and SchemaDefinition "
                                                       "are required"}, content_type=ctype)
            try:
                vid, version = registry.glue_register(name, definition)
            except RegistryError as e:
                return self.send_json(400, {"__type": "InvalidInputException",
                                            "Message": e.message}, content_type=ctype)
            return self.send_json(200, {"SchemaVersionId": vid, "VersionNumber": version,
                                        "Status": "AVAILABLE"}, content_type=ctype)
        if target == "AWSGlue.GetSchemaVersion":
            v = registry.glue_get(request.get("SchemaVersionId"))
            if v is None:
                return self.send_json(400, {"__type": "EntityNotFoundException",
                                            "Message": "Schema version is not found."},
                                      content_type=ctype)
            return self.send_json(200, {"SchemaVersionId": request["SchemaVersionId"],
                                        "SchemaDefinition": v["definition"], "DataFormat": "AVRO",
                                        "VersionNumber": v["version"], "Status": "AVAILABLE"},
                                  content_type=ctype)
        return self.send_json(400, {"__type": "UnknownOperationException",
                                    "Message": f"{target} is not implemented by this stub"},
                              content_type=ctype)

    def _set_failures(self, body):
        try:
            request = json.loads(body or b"{}")
            count, status = int(request["count"]), int(request.get("status", 503))
        except (ValueError, KeyError, TypeError):
            return self._error(400, 400, 'Expected {"count": N, "status": S}')
        if count < 0 or not 400 <= status <= 599:
            return self._error(400, 400, "count must be >= 0 and status 400..599")
        with self.server.lock:
            self.server.failures = {"count": count, "status": status}
        return self.send_json(200, {"count": count, "status": status})

    @staticmethod
    def _schema_text(body):
        try:
            request = json.loads(body)
        except ValueError as e:
            raise RegistryError(400, 400, f"Malformed request body: {e}") from None
        if not isinstance(request, dict) or "schema" not in request:
            raise RegistryError(422, 42201, "Invalid schema: the body needs a 'schema' field")
        if request.get("schemaType", "AVRO") != "AVRO":
            raise RegistryError(422, 42201, "Invalid schema: this stub stores AVRO schemas only")
        return request["schema"]

    def _authorized(self):
        expected = self.server.auth
        if expected is None:
            return True
        return hmac.compare_digest(self.headers.get("Authorization", ""), expected)

    def _error(self, status, code, message, headers=()):
        self.send_json(status, {"error_code": code, "message": message},
                       content_type=CONTENT_TYPE, headers=headers)


def main():
    parser = argparse.ArgumentParser(description="Confluent Schema Registry stub (Avro subset)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--data", help="JSON file that keeps subjects and schemas across restarts")
    parser.add_argument("--user", help="require HTTP basic auth with this user")
    parser.add_argument("--password", help="password for --user")
    args = parser.parse_args()
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")

    server = StubServer((args.host, args.port), Handler)
    server.registry = Registry(args.data)
    server.requests = []
    server.lock = threading.Lock()
    server.failures = {"count": 0, "status": 503}
    server.auth = None
    if args.user is not None:
        token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        server.auth = f"Basic {token}"
    serve(server, "registry")


if __name__ == "__main__":
    main()
