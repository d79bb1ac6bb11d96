/**
 * The mesh document: what one node group's side of the mesh must be (its setup, subscriptions, verify, problems and
 * down-subscriptions SQL), kept outside the user-data. Terraform stores it in the secret store of the group's cloud and region (no secret
 * in it: DSNs name hosts and users, passwords stay in `.pgpass`), and `mesh-sync`, run by mesh-keeper on every member,
 * brings the files into the mesh directory whenever it changes. So a changed declaration (a node group added or
 * removed, a table declared) reaches a running fleet through `cdktf deploy` without touching a machine, and the
 * user-data no longer grows with the number of node groups.
 *
 * Stored as JSON `{"format": "dpg-mesh/1", "generation": G, "gzip": B}`: B is base64 of the gzipped JSON
 * `{"files": {NAME: TEXT}}` (the secret stores take 64 KiB; a 100-group mesh's SQL is larger than that as text), and G
 * the first 16 hex digits of B's SHA-256 before encoding, so a reader can check what it decoded.
 */
import { createHash } from 'crypto';
import { NodeGroup, Topology } from '../topology/topology';
import { compactSql } from './compact';
import { gzipDeterministic } from './gzip';
import { replicationEngine } from './mesh';
import { FILES } from './paths';
import { oneLine } from './quote';

export const MESH_DOCUMENT_FORMAT = 'dpg-mesh/1';

/** How often every member reads its group's mesh document (one secret-store read per member per period). */
export const MESH_SYNC_SECONDS = 60;

/** The files of the group's mesh document, by name (all land in the mesh directory). */
export function meshDocumentFiles(topology: Topology, group: NodeGroup): Record<string, string> {
  const sql = replicationEngine(topology.replication.engine).sql(topology, group);
  const files: Record<string, string> = {
    'setup.sql': sql.setup,
    'subscriptions.sql': sql.subscriptions,
    'verify.sql': sql.verify,
    'down-subscriptions.sql': sql.downSubscriptions,
    ...(sql.problems === undefined ? {} : { 'problems.sql': sql.problems }),
    ...(sql.failoverSlots === undefined ? {} : { 'failover-slots.sql': sql.failoverSlots }),
  };
  return Object.fromEntries(Object.entries(files).map(([name, text]) => [name, compactSql(text)]));
}

export interface MeshDocument {
  readonly generation: string;
  /** The value stored in the secret store. */
  readonly value: string;
}

export function meshDocument(topology: Topology, group: NodeGroup): MeshDocument {
  const body = gzipDeterministic(JSON.stringify({ files: meshDocumentFiles(topology, group) }));
  const generation = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { generation, value: JSON.stringify({ format: MESH_DOCUMENT_FORMAT, generation, gzip: body.toString('base64') }) };
}

/**
 * `mesh-sync`: reads the group's mesh document once (the secret backend, no retries: mesh-keeper calls it again) and
 * writes its files into the mesh directory when its generation differs from the one there. Prints one line when it
 * changed something; exits 1 with the reason when the document cannot be read or is not valid (the files stay as
 * they were).
 */
export function meshSyncScript(group: NodeGroup): string {
  return `#!/usr/bin/python3
# mesh-sync: node group ${oneLine(group.name)}'s mesh document (from the secret store) into the mesh directory when it changed.
import base64, gzip, hashlib, json, os, re, subprocess, sys
NAME, DIR, BACKEND = ${JSON.stringify(group.meshDocument)}, ${JSON.stringify(FILES.meshDir)}, ${JSON.stringify(FILES.secretBackend)}
STAMP, LIST = os.path.join(DIR, "generation"), os.path.join(DIR, "document-files")


def fail(why):
    sys.exit("mesh-sync: %s: %s" % (NAME, why))


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def write(name, text):
    tmp = os.path.join(DIR, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(DIR, name))


try:
    raw = subprocess.run([BACKEND, NAME], capture_output=True, timeout=60, check=True).stdout
except (subprocess.SubprocessError, OSError) as e:
    fail("not readable (%s)" % e.__class__.__name__)
try:
    doc = json.loads(raw)
    if doc.get("format") != ${JSON.stringify(MESH_DOCUMENT_FORMAT)}:
        fail("format %r, expected %r" % (doc.get("format"), ${JSON.stringify(MESH_DOCUMENT_FORMAT)}))
    body = base64.b64decode(doc["gzip"], validate=True)
    if hashlib.sha256(body).hexdigest()[:16] != doc["generation"]:
        fail("generation %s does not match its content" % doc["generation"])
    files = json.loads(gzip.decompress(body))["files"]
except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:
    fail("not a valid document (%s)" % e)
for name in files:
    if not re.fullmatch(r"[a-z0-9-]+\\.sql", name):
        fail("unexpected file name %r" % name)
if read(STAMP).strip() == doc["generation"]:
    sys.exit(0)
os.makedirs(DIR, mode=0o755, exist_ok=True)
previous = set(read(LIST).split())
# Each file replaced whole, the list and the stamp last: an interrupted run is redone.
for name in sorted(files):
    write(name, files[name])
write("document-files", "\\n".join(sorted(files)) + "\\n")
for name in previous - set(files):
    if os.path.exists(os.path.join(DIR, name)):
        os.remove(os.path.join(DIR, name))
write("generation", doc["generation"] + "\\n")
print("mesh document %s: generation %s (%d files)" % (NAME, doc["generation"], len(files)))
`;
}
