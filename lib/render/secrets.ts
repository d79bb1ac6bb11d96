/**
 * Secrets are fetched at boot by the machine's own cloud identity; user-data names them only.
 * `dpg-secret NAME` prints a value; the cloud-specific part is one small backend file, which is also what
 * the rehearsal replaces with a local stand-in.
 */
import { CloudName, Topology } from '../topology/topology';
import { FILES } from './paths';
import { oneLine, shellQuote } from './quote';

export function secretCommandScript(topology: Topology): string {
  const names = topology.secrets.all.map(shellQuote).join('|');
  return `#!/bin/bash
# dpg-secret NAME: prints one secret of fleet '${oneLine(topology.fleetName)}' from the cloud's secret store, read with this
# machine's own identity. Retries while the instance identity or the secret version propagates.
set -euo pipefail
name=$1
case "$name" in
  ${names}) ;;
  *) echo "dpg-secret: '$name' is not a secret of this fleet" >&2; exit 2 ;;
esac
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
  if ${FILES.secretBackend} "$name"; then exit 0; fi
  echo "dpg-secret: reading '$name' failed (attempt $attempt of 30); retrying in 10 s" >&2
  sleep 10
done
exit 1
`;
}

/** The cloud backend: prints the secret's value on stdout and nothing on failure. */
export function secretBackendScript(cloud: CloudName, region: string): string {
  if (cloud === 'aws') {
    return `#!/usr/bin/python3
"""secret-backend NAME (AWS): the SecretString of NAME from AWS Secrets Manager in REGION (the node group's),
read with the instance role (boto3 uses IMDSv2)."""
import sys

import boto3

REGION = ${JSON.stringify(region)}

value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=sys.argv[1])["SecretString"]
sys.stdout.write(value)
`;
  }
  return `#!/usr/bin/python3
"""secret-backend NAME (GCP): the latest version of NAME from Secret Manager in this project, read with the
instance's service account token from the metadata server."""
import base64
import json
import sys
import urllib.parse
import urllib.request

METADATA = "http://metadata.google.internal/computeMetadata/v1/"


def metadata(path):
    request = urllib.request.Request(METADATA + path, headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


token = json.loads(metadata("instance/service-accounts/default/token"))["access_token"]
project = metadata("project/project-id")
url = "https://secretmanager.googleapis.com/v1/projects/%s/secrets/%s/versions/latest:access" % (
    urllib.parse.quote(project, safe=""), urllib.parse.quote(sys.argv[1], safe=""))
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
with urllib.request.urlopen(request, timeout=20) as response:
    data = json.load(response)["payload"]["data"]
sys.stdout.write(base64.b64decode(data).decode())
`;
}

/**
 * Writes the files that need secret values, on this machine, readable by their owner only:
 * - `yaml TEMPLATE OUT OWNER`: a YAML template whose `{{secret:NAME}}` strings become the values (Patroni's config),
 *   whose `{{disk-share:PATH:PERCENT[-MINUS]}}` strings become that share of PATH's file system less MINUS MB (`<n>MB`), and whose
 *   `{{mesh:KEY}}` strings become that key of Patroni's part of the mesh document (`patroni.json`, by mesh-sync);
 * - `pgpass OUT OWNER USER NAME`: a one-line .pgpass for USER;
 * - `role-sql ROLE NAME ATTRIBUTES...`: prints SQL that creates/alters ROLE with a SCRAM verifier computed here,
 *   so the password itself never reaches the server, its logs or a command line.
 */
export function materializeSecretsScript(): string {
  return `#!/usr/bin/python3
"""materialize-secrets: fills secret values into the files that need them (see usage below)."""
import base64
import hashlib
import hmac
import json
import os
import pwd
import re
import subprocess
import sys
import tempfile

import yaml

PLACEHOLDER = re.compile(r"^\\{\\{secret:([A-Za-z0-9_-]+)\\}\\}$")
DISK_SHARE = re.compile(r"^\\{\\{disk-share:(/[A-Za-z0-9_./-]*):([0-9]{1,2})(?:-([0-9]{1,7}))?\\}\\}$")
MESH = re.compile(r"^\\{\\{mesh:([a-z_]+)\\}\\}$")
MESH_PART = "${FILES.meshDir}/patroni.json"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ATTRIBUTE = re.compile(r"^[A-Z]+$")


def secret(name):
    out = subprocess.run(["${FILES.secretCommand}", name], check=True, stdout=subprocess.PIPE).stdout
    return out.decode().rstrip("\\n")


def disk_share(path, percent, minus):
    # The file system that holds path (or its nearest existing parent), as Postgres sizes: whole MB; less minus MB,
    # at least one segment (a disk smaller than the declaration allowed for).
    while not os.path.exists(path):
        path = os.path.dirname(path) or "/"
    st = os.statvfs(path)
    return "%dMB" % max(16, st.f_frsize * st.f_blocks * percent // 100 // (1024 * 1024) - minus)


def mesh_value(key):
    # Patroni's part of the group's mesh document, which mesh-sync wrote before.
    try:
        with open(MESH_PART) as f:
            return json.load(f)[key]
    except (OSError, ValueError, KeyError) as e:
        sys.exit("materialize-secrets: %s has no %s (%s): run mesh-sync first" % (MESH_PART, key, e.__class__.__name__))


def fill(node):
    if isinstance(node, dict):
        return {key: fill(value) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value) for value in node]
    if isinstance(node, str):
        match = PLACEHOLDER.match(node)
        if match:
            return secret(match.group(1))
        match = DISK_SHARE.match(node)
        if match:
            return disk_share(match.group(1), int(match.group(2)), int(match.group(3) or 0))
        match = MESH.match(node)
        if match:
            return mesh_value(match.group(1))
    return node


def write_private(path, text, owner):
    account = pwd.getpwnam(owner)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        os.fchown(fd, account.pw_uid, account.pw_gid)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def scram_verifier(password, iterations=4096):
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


def main(args):
    if args[:1] == ["yaml"] and len(args) == 4:
        with open(args[1]) as f:
            document = yaml.safe_load(f)
        write_private(args[2], yaml.safe_dump(fill(document), default_flow_style=False, sort_keys=False), args[3])
    elif args[:1] == ["pgpass"] and len(args) == 5:
        password = secret(args[4]).replace("\\\\", "\\\\\\\\").replace(":", "\\\\:")
        write_private(args[1], "*:*:*:%s:%s\\n" % (args[3], password), args[2])
    elif args[:1] == ["role-sql"] and len(args) >= 3 and IDENTIFIER.match(args[1]):
        role, attributes = args[1], [a for a in args[3:] if ATTRIBUTE.match(a)]
        print("SELECT 'CREATE ROLE \\"%s\\"' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') \\\\gexec" % (role, role))
        print("ALTER ROLE \\"%s\\" WITH %s PASSWORD '%s';" % (role, " ".join(attributes), scram_verifier(secret(args[2]))))
    else:
        sys.exit("usage: materialize-secrets yaml TEMPLATE OUT OWNER | pgpass OUT OWNER USER SECRET"
                 " | role-sql ROLE SECRET ATTRIBUTE...")


main(sys.argv[1:])
`;
}
