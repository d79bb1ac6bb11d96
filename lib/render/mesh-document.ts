/**
 * The mesh document: what one node group's side of the mesh must be (its setup, subscriptions, verify, problems and
 * down-subscriptions SQL), kept outside the user-data. Terraform stores it in the secret store of the group's cloud and region (no secret
 * in it: DSNs name hosts and users, passwords stay in `.pgpass`), and `mesh-sync`, run by mesh-keeper on every member,
 * brings the files into the mesh directory whenever it changes. So a changed declaration (a node group added or
 * removed, a table declared) reaches a running fleet through `cdktf deploy` without touching a machine, and the
 * user-data no longer grows with the number of node groups.
 *
 * Stored as JSON `{"format": "dpg-mesh/1", "generation": G, "gzip": B}`: B is base64 of the gzipped JSON
 * `{"files": {NAME: TEXT}, "patroni": {"pg_hba": [...], "slots": {...}}}` (the secret stores take 64 KiB; a 100-group
 * mesh's SQL is larger than that as text), and G the first 16 hex digits of B's SHA-256 before encoding, so a reader
 * can check what it decoded. `patroni` is the part of Patroni's dynamic configuration that follows the mesh (it is
 * outside `files` so that a member whose mesh-sync predates it still takes the rest of the document).
 */
import { createHash } from 'crypto';
import { antiEntropyPairsSql } from './anti-entropy';
import { NodeGroup, Topology } from '../topology/topology';
import { compactSql } from './compact';
import { gzipDeterministic } from './gzip';
import { PatroniSlot, permanentSlots, replicationEngine, retainedWalProblemsSql } from './mesh';
import { FILES } from './paths';
import { archiveParameters } from './backup';
import { metricsEnabled, postgresExporterQueries } from './metrics';
import { pgHba } from './patroni';
import { oneLine } from './quote';

export const MESH_DOCUMENT_FORMAT = 'dpg-mesh/1';

/** How often every member reads its group's mesh document (one secret-store read per member per period). */
export const MESH_SYNC_SECONDS = 60;

/** The files of the group's mesh document, by name (all land in the mesh directory). */
export function meshDocumentFiles(topology: Topology, group: NodeGroup): Record<string, string> {
  const sql = replicationEngine(topology.replication.engine).sql(topology, group);
  const problems = [sql.problems, retainedWalProblemsSql(topology, group)].filter((p): p is string => p !== undefined);
  const files: Record<string, string> = {
    'setup.sql': sql.setup,
    'subscriptions.sql': sql.subscriptions,
    'verify.sql': sql.verify,
    'down-subscriptions.sql': sql.downSubscriptions,
    ...(problems.length === 0 ? {} : { 'problems.sql': problems.join('\n') }),
    ...(sql.failoverSlots === undefined ? {} : { 'failover-slots.sql': sql.failoverSlots }),
    ...(sql.joinFiles ?? {}),
    ...(sql.resync === undefined ? {} : { 'resync.sql': sql.resync.check, 'resync-record.sql': sql.resync.record }),
    'anti-entropy.sql': antiEntropyPairsSql(topology, group),
  };
  return Object.fromEntries(Object.entries(files).map(([name, text]) => [name, compactSql(text)]));
}

/**
 * The part of Patroni's dynamic configuration that follows the mesh: pg_hba (a line per node group's range) and the
 * permanent slots of the groups subscribed to this one. The group's first member bootstraps with it; the leader's
 * mesh-keeper keeps the DCS equal to it after that (`mesh-sync dcs`), so a group added or removed later gets its
 * slots kept or dropped and its addresses admitted or refused without touching a machine.
 */
export interface MeshPatroniPart {
  readonly pg_hba: string[];
  readonly slots: Record<string, PatroniSlot>;
  /**
   * Postgres parameters of the dynamic configuration that follow the declaration: the archive parameters of the
   * group's backups (`archive_mode: off` when they are off). Bootstrap writes them once; after that only this part
   * changes them, so a new `archiveTimeoutSeconds`, or backups turned on or off, reach the running group
   * (`archive_mode` itself takes effect at the members' next restart: Patroni shows it as pending).
   */
  readonly parameters: Record<string, string | number>;
}

export function meshDocumentPatroni(topology: Topology, group: NodeGroup): MeshPatroniPart {
  return { pg_hba: pgHba(topology, group), slots: permanentSlots(topology, group), parameters: archiveParameters(group) ?? { archive_mode: 'off' } };
}

export interface MeshDocument {
  readonly generation: string;
  /** The value stored in the secret store. */
  readonly value: string;
}

/**
 * The metrics part: postgres_exporter's queries, which name the group's subscriptions and the slots its peers stream
 * from (so they follow the fleet, like the SQL). Outside `files` (like `patroni`), so that a member whose mesh-sync
 * predates it (it takes only `.sql` files there) still takes the rest of the document. Absent with monitoring off.
 */
export function meshDocumentMetrics(topology: Topology, group: NodeGroup): { postgres_exporter_queries: string } | undefined {
  return metricsEnabled(topology) ? { postgres_exporter_queries: postgresExporterQueries(topology, group) } : undefined;
}

/** The name mesh-sync writes the metrics part's queries under, in the mesh directory. */
export const MESH_QUERIES_FILE = FILES.postgresExporterQueries.slice(FILES.meshDir.length + 1);

export function meshDocument(topology: Topology, group: NodeGroup): MeshDocument {
  const metrics = meshDocumentMetrics(topology, group);
  const body = gzipDeterministic(JSON.stringify({
    files: meshDocumentFiles(topology, group), patroni: meshDocumentPatroni(topology, group), ...(metrics ? { metrics } : {}),
  }));
  const generation = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { generation, value: JSON.stringify({ format: MESH_DOCUMENT_FORMAT, generation, gzip: body.toString('base64') }) };
}

/**
 * `mesh-sync`: reads the group's mesh document once (the secret backend, no retries: mesh-keeper calls it again) and
 * writes its files into the mesh directory when its generation differs from the one there (Patroni's part as
 * `patroni.json`). Prints one line when it changed something; exits 1 with the reason when the document cannot be read
 * or is not valid (the files stay as they were).
 *
 * `mesh-sync dcs` (the leader's mesh-keeper): makes `slots` and `postgresql.pg_hba` of the group's dynamic
 * configuration what `patroni.json` says, with patronictl (show-config, then edit-config only when they differ).
 */
export function meshSyncScript(group: NodeGroup): string {
  return `#!/usr/bin/python3
# mesh-sync: node group ${oneLine(group.name)}'s mesh document (from the secret store) into the mesh directory when it changed.
import base64, gzip, hashlib, json, os, re, subprocess, sys
NAME, DIR, BACKEND = ${JSON.stringify(group.meshDocument)}, ${JSON.stringify(FILES.meshDir)}, ${JSON.stringify(FILES.secretBackend)}
PATRONICTL = ["patronictl", "-c", ${JSON.stringify(FILES.patroniConfig)}]
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


def dcs():
    text = read(os.path.join(DIR, "patroni.json"))
    if not text:
        sys.exit(0)
    want = json.loads(text)
    import yaml
    try:
        # patronictl waits for an unreachable DCS much longer than this.
        shown = subprocess.run(PATRONICTL + ["show-config"], capture_output=True, timeout=20, check=True).stdout
        now = yaml.safe_load(shown) or {}
    except (subprocess.SubprocessError, OSError, yaml.YAMLError) as e:
        fail("Patroni's dynamic configuration not readable (%s)" % e.__class__.__name__)
    changes = []
    if (now.get("slots") or {}) != want["slots"]:
        changes.append(("slots", json.dumps(want["slots"], sort_keys=True) if want["slots"] else "null"))
    if (now.get("postgresql") or {}).get("pg_hba") != want["pg_hba"]:
        changes.append(("postgresql.pg_hba", json.dumps(want["pg_hba"])))
    # Parameters as text ("on" may come back from YAML as True); archive_mode is off when it was never set.
    have = (now.get("postgresql") or {}).get("parameters") or {}
    for key, value in sorted((want.get("parameters") or {}).items()):
        current = have.get(key, "off" if key == "archive_mode" else None)
        current = {True: "on", False: "off"}.get(current, current) if isinstance(current, bool) else current
        if current is None or str(current) != str(value):
            changes.append(("postgresql.parameters." + key, json.dumps(value)))
    if not changes:
        sys.exit(0)
    args = PATRONICTL + ["edit-config", "--force", "--quiet"]
    for key, value in changes:
        args += ["--set", key + "=" + value]
    try:
        out = subprocess.run(args, capture_output=True, timeout=20)
    except subprocess.SubprocessError as e:
        fail("Patroni's dynamic configuration not changed (%s)" % e.__class__.__name__)
    if out.returncode != 0:
        fail("Patroni's dynamic configuration not changed: %s" % out.stderr.decode(errors="replace").strip()[-300:])
    print("Patroni's dynamic configuration: %s as in the mesh document%s" % (" and ".join(key for key, _ in changes),
          "; archive_mode takes effect when the members restart (patronictl restart)" if any(k.endswith(".archive_mode") for k, _ in changes) else ""))


if sys.argv[1:] == ["dcs"]:
    dcs()
    sys.exit(0)
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
    content = json.loads(gzip.decompress(body))
    files, patroni, metrics = content["files"], content.get("patroni"), content.get("metrics")
    if patroni is not None and not (isinstance(patroni.get("slots"), dict) and isinstance(patroni.get("pg_hba"), list)):
        fail("Patroni's part is not {slots, pg_hba}")
except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:
    fail("not a valid document (%s)" % e)
for name in files:
    if not re.fullmatch(r"[a-z0-9-]+\\.sql", name):
        fail("unexpected file name %r" % name)
if patroni is not None:
    files = dict(files, **{"patroni.json": json.dumps(patroni, indent=1) + "\\n"})
# The metrics part: postgres_exporter's queries (a systemd path unit restarts the exporter when they change).
if isinstance(metrics, dict) and isinstance(metrics.get("postgres_exporter_queries"), str):
    files = dict(files, **{${JSON.stringify(MESH_QUERIES_FILE)}: metrics["postgres_exporter_queries"]})
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
