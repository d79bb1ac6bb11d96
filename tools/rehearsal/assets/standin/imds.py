#!/usr/bin/python3
"""Rehearsal stand-in for EC2's instance metadata service, IMDSv2 only (the fleet's instances set http_tokens = required).

Serves on 169.254.169.254:80 inside the object store stand-in host (tools/rehearsal/src/object-store.ts):
  PUT /latest/api/token                      with X-aws-ec2-metadata-token-ttl-seconds: 1..21600 -> a session token
  GET /latest/meta-data/iam/security-credentials[/]        -> the caller's role name (404: no role)
  GET /latest/meta-data/iam/security-credentials/<role>    -> {"Code": "Success", "AccessKeyId", "SecretAccessKey",
                                                               "Token", "Expiration", ...} for the caller's own role
Every GET needs a live token in X-aws-ec2-metadata-token (401 otherwise, as the service answers with tokens required).
The caller is told apart by its source address: ROLES (a JSON file) maps each host's address to its instance's role.
Credentials are made per role at start (moto's S3 accepts any). Only the standard library of the image's python3.
"""
import json
import secrets
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRED_PATH = '/latest/meta-data/iam/security-credentials'
LOCK = threading.Lock()
TOKENS = {}
CREDENTIALS = {}


def credentials_for(role):
    with LOCK:
        if role not in CREDENTIALS:
            CREDENTIALS[role] = {
                'AccessKeyId': 'ASIA' + secrets.token_hex(8).upper(),
                'SecretAccessKey': secrets.token_urlsafe(30),
                'Token': secrets.token_urlsafe(90),
            }
        return CREDENTIALS[role]


class Handler(BaseHTTPRequestHandler):
    roles = {}
    server_version = 'EC2ws'
    sys_version = ''

    def log_message(self, fmt, *args):
        sys.stderr.write('imds: %s %s\n' % (self.client_address[0], fmt % args))

    def reply(self, code, body, content_type='text/plain'):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path != '/latest/api/token':
            return self.reply(404, 'Not Found')
        if self.headers.get('X-Forwarded-For'):
            return self.reply(403, 'Forbidden')
        try:
            ttl = int(self.headers.get('X-aws-ec2-metadata-token-ttl-seconds', ''))
        except ValueError:
            return self.reply(400, 'Bad Request: X-aws-ec2-metadata-token-ttl-seconds is required')
        if not 1 <= ttl <= 21600:
            return self.reply(400, 'Bad Request: token TTL must be 1..21600 seconds')
        token = secrets.token_urlsafe(40)
        with LOCK:
            TOKENS[token] = (self.client_address[0], time.time() + ttl)
        self.send_response(200)
        self.send_header('X-aws-ec2-metadata-token-ttl-seconds', str(ttl))
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(token)))
        self.end_headers()
        self.wfile.write(token.encode())

    def do_GET(self):
        token = self.headers.get('X-aws-ec2-metadata-token', '')
        with LOCK:
            held = TOKENS.get(token)
        if not held or held[0] != self.client_address[0] or held[1] < time.time():
            return self.reply(401, 'Unauthorized')
        role = self.roles.get(self.client_address[0])
        path = self.path.rstrip('/')
        if path == CRED_PATH:
            return self.reply(200, role) if role else self.reply(404, 'Not Found')
        if path.startswith(CRED_PATH + '/'):
            asked = path[len(CRED_PATH) + 1:]
            if not role or asked != role:
                return self.reply(404, 'Not Found')
            c = credentials_for(role)
            now = datetime.now(timezone.utc)
            expiration = datetime.fromtimestamp(now.timestamp() + 6 * 3600, timezone.utc)
            return self.reply(200, json.dumps({
                'Code': 'Success', 'LastUpdated': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'Type': 'AWS-HMAC',
                'AccessKeyId': c['AccessKeyId'], 'SecretAccessKey': c['SecretAccessKey'], 'Token': c['Token'],
                'Expiration': expiration.strftime('%Y-%m-%dT%H:%M:%SZ'),
            }, indent=2), 'application/json')
        return self.reply(404, 'Not Found')


def main():
    if len(sys.argv) != 4:
        sys.stderr.write('usage: imds.py ADDRESS PORT ROLES.json\n')
        return 2
    with open(sys.argv[3]) as f:
        Handler.roles = json.load(f)
    server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    sys.stderr.write('imds: serving on %s:%s for %d hosts\n' % (sys.argv[1], sys.argv[2], len(Handler.roles)))
    server.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
