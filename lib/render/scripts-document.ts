/**
 * The scripts document: the boot scripts, units and SQL that every machine of a node group runs, kept outside the
 * user-data. Terraform stores it next to the group's mesh document (the secret store of the group's cloud and region,
 * readable by the same machine identity; no secret in it), and each machine's user-data carries only what is its own
 * (its identity, its etcd and Patroni configuration), the secret backend and `load-scripts`, which fetches the document
 * at first boot and checks it against the SHA-256 the user-data pins. So the user-data stays small whatever the engine
 * and the scripts grow to, and a changed script still changes the user-data (the pin), as a changed file did before:
 * it reaches new machines and replaced ones, never a running one.
 *
 * Stored as JSON `{"format": "dpg-scripts/1", "sha256": H, "gzip": B}`: B is base64 of the gzipped JSON
 * `{"files": [{"path", "permissions", "when", "content"}]}` and H the SHA-256 of the gzipped bytes. `when` says which
 * machines of the group write the file: `always`, `etcd` (the machine runs an etcd member) or `postgres` (a Postgres
 * member), so one document serves the group's members and its dedicated etcd machines alike.
 */
import { createHash } from 'crypto';
import { NodeGroup } from '../topology/topology';
import { gzipDeterministic } from './gzip';
import { Machine } from './machine';
import { FILES } from './paths';
import { oneLine } from './quote';

export const SCRIPTS_DOCUMENT_FORMAT = 'dpg-scripts/1';

/** The secret stores' limit on one value (AWS Secrets Manager 65,536 bytes, Google Secret Manager 64 KiB). */
export const SECRET_VALUE_LIMIT = 65536;

/** Which machines of the group write a file of the scripts document. */
export type ScriptsFileWhen = 'always' | 'etcd' | 'postgres';

export interface ScriptsFile {
  readonly path: string;
  readonly permissions: string;
  readonly when: ScriptsFileWhen;
  readonly content: string;
}

export interface ScriptsDocument {
  /** SHA-256 (hex) of the gzipped content: what each machine's user-data pins. */
  readonly sha256: string;
  /** The value stored in the secret store. */
  readonly value: string;
}

/** The stored document of a group's files (made once per files array: every machine of the group pins it). */
const DOCUMENTS = new WeakMap<readonly ScriptsFile[], ScriptsDocument>();

/** A group's scripts document that no secret store takes (a declaration finding, not a crash). */
export class ScriptsDocumentTooLargeError extends Error {
  constructor(readonly documentName: string, readonly bytes: number) {
    super(`the scripts document ${documentName} is ${bytes} bytes, above the secret stores' limit of ${SECRET_VALUE_LIMIT} bytes`);
  }
}

export function scriptsDocumentOf(files: readonly ScriptsFile[], name: string): ScriptsDocument {
  const known = DOCUMENTS.get(files);
  if (known) return known;
  const body = gzipDeterministic(JSON.stringify({ files }));
  const sha256 = createHash('sha256').update(body).digest('hex');
  const value = JSON.stringify({ format: SCRIPTS_DOCUMENT_FORMAT, sha256, gzip: body.toString('base64') });
  if (value.length > SECRET_VALUE_LIMIT) {
    throw new ScriptsDocumentTooLargeError(name, value.length);
  }
  const document = { sha256, value };
  DOCUMENTS.set(files, document);
  return document;
}

/** Which `when` values a machine writes. */
export function scriptsWhenOf(machine: Machine): ScriptsFileWhen[] {
  return ['always', ...(machine.etcd ? ['etcd' as const] : []), ...(machine.role === 'postgres' ? ['postgres' as const] : [])];
}

/** Where load-scripts records the SHA-256 of the scripts it wrote (a reboot or a retried bootstrap finds them in place). */
export const SCRIPTS_STAMP = `${FILES.stateDir}/scripts.sha256`;

/** How long load-scripts waits for a readable document with the pinned SHA-256 before the unit's retry takes over (s). */
export const LOAD_SCRIPTS_DEADLINE_SECONDS = 900;

/**
 * `load-scripts`, the bootstrap unit's first step: unless this machine already holds the pinned scripts, reads the
 * group's scripts document through the secret backend (backing off 1, 2, 4 .. 15 s while it is not readable or holds
 * another SHA-256, e.g. a deploy that has not stored it yet), writes this machine's files of it (each replaced whole,
 * the stamp last) and reloads systemd for the units among them.
 */
export function loadScriptsScript(machine: Machine, group: NodeGroup, sha256: string): string {
  return `#!/usr/bin/python3
# load-scripts: the scripts of node group ${oneLine(group.name)} from its scripts document in the secret store, checked against
# the SHA-256 this user-data pins; written once (a reboot or a retried bootstrap finds them in place).
import base64, gzip, hashlib, json, os, subprocess, sys, time
NAME, SHA256, BACKEND = ${JSON.stringify(group.scriptsDocument)}, ${JSON.stringify(sha256)}, ${JSON.stringify(FILES.secretBackend)}
MACHINE, WHEN, STAMP = ${JSON.stringify(machine.name)}, ${JSON.stringify(scriptsWhenOf(machine))}, ${JSON.stringify(SCRIPTS_STAMP)}
LOG, STATUS, ATTEMPTS = ${JSON.stringify(FILES.bootstrapLog)}, ${JSON.stringify(FILES.bootstrapStatus)}, ${JSON.stringify(`${FILES.stateDir}/bootstrap.attempts`)}
STEP = "the scripts document " + NAME


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def log(text):
    line = "%s %s: %s" % (now(), MACHINE, text)
    print(line, flush=True)
    with open(LOG, "a") as f:
        f.write(line + "\\n")


def status(state):
    tmp = STATUS + ".tmp"
    with open(tmp, "w") as f:
        f.write("state=%s\\nstep=%s\\nattempt=%s\\nupdated=%s\\n" % (state, STEP, read(ATTEMPTS) or "0", now()))
    os.replace(tmp, STATUS)


def fetch():
    """The document's gzipped content when it is readable and holds the pinned scripts, else why not."""
    try:
        raw = subprocess.run([BACKEND, NAME], capture_output=True, timeout=60, check=True).stdout
        doc = json.loads(raw)
        if doc.get("format") != ${JSON.stringify(SCRIPTS_DOCUMENT_FORMAT)}:
            return None, "format %r, expected %r" % (doc.get("format"), ${JSON.stringify(SCRIPTS_DOCUMENT_FORMAT)})
        body = base64.b64decode(doc["gzip"], validate=True)
    except (subprocess.SubprocessError, OSError) as e:
        return None, "not readable (%s)" % e.__class__.__name__
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return None, "not a valid document (%s)" % e
    found = hashlib.sha256(body).hexdigest()
    if found != SHA256:
        return None, "holds scripts %s, this machine's user-data pins %s (a deploy that has not stored them yet?)" % (found[:16], SHA256[:16])
    return body, ""


if read(STAMP) == SHA256:
    sys.exit(0)
os.makedirs(os.path.dirname(STATUS), mode=0o755, exist_ok=True)
status("running")
start, pause = time.monotonic(), 1
while True:
    body, why = fetch()
    if body is not None:
        break
    if time.monotonic() - start >= ${LOAD_SCRIPTS_DEADLINE_SECONDS}:
        log("%s: %s; giving up after ${LOAD_SCRIPTS_DEADLINE_SECONDS} s (the unit retries)" % (STEP, why))
        status("failed")
        sys.exit(1)
    log("%s: %s; again in %d s" % (STEP, why, pause))
    time.sleep(pause)
    pause = min(pause * 2, 15)
written = 0
for f in json.loads(gzip.decompress(body))["files"]:
    if f["when"] not in WHEN:
        continue
    os.makedirs(os.path.dirname(f["path"]), mode=0o755, exist_ok=True)
    tmp = os.path.join(os.path.dirname(f["path"]), "." + os.path.basename(f["path"]) + ".tmp")
    with open(tmp, "w") as out:
        out.write(f["content"])
    os.chmod(tmp, int(f["permissions"], 8))
    os.replace(tmp, f["path"])
    written += 1
subprocess.run(["systemctl", "daemon-reload"], check=False)
with open(STAMP + ".tmp", "w") as f:
    f.write(SHA256 + "\\n")
os.replace(STAMP + ".tmp", STAMP)
log("%s: %d files written (scripts %s)" % (STEP, written, SHA256[:16]))
`;
}
