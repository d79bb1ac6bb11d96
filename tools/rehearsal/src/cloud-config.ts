/** Reading a machine's `#cloud-config`: which modules it uses, and the files it writes. */
import { gunzipSync } from 'zlib';
import { parse } from 'yaml';

export interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly permissions?: string;
  readonly owner?: string;
  readonly defer: boolean;
}

export interface CloudConfig {
  readonly text: string;
  readonly doc: Record<string, unknown>;
  readonly writeFiles: WriteFile[];
  /** Top-level keys the rehearsal applies itself (by running that cloud-init module) or stands in for. */
  readonly rehearsedKeys: string[];
  /** Top-level keys the rehearsal does not apply, with why. */
  readonly skippedKeys: { key: string; why: string }[];
}

/** Modules whose work the machine image already did (packages installed in the rehearsal image) or that need a cloud. */
const STOOD_IN: Record<string, string> = {
  packages: 'packages come preinstalled in the image the host boots from (stand-in)',
  package_update: 'no package download in the rehearsal (stand-in)',
  package_upgrade: 'no package download in the rehearsal (stand-in)',
  package_reboot_if_required: 'no package download in the rehearsal (stand-in)',
  apt: 'no apt sources in the rehearsal (packages preinstalled in the image)',
  hostname: 'the test host is named after the machine',
  fqdn: 'the test host is named after the machine',
  prefer_fqdn_over_hostname: 'the test host is named after the machine',
  preserve_hostname: 'the test host is named after the machine',
  manage_etc_hosts: 'not applied',
  ssh_pwauth: 'no SSH in the rehearsal',
  disable_root: 'no SSH in the rehearsal',
  ssh_deletekeys: 'no SSH in the rehearsal',
  timezone: 'not applied',
  ntp: 'not applied',
  output: 'runcmd output goes to /var/log/cloud-init-output.log in the host',
  final_message: 'not applied',
};
const APPLIED = ['write_files', 'runcmd'];

function decodeContent(entry: Record<string, unknown>): string {
  const content = typeof entry.content === 'string' ? entry.content : '';
  const encoding = String(entry.encoding ?? '').toLowerCase();
  if (['b64', 'base64'].includes(encoding)) return Buffer.from(content, 'base64').toString('utf8');
  if (['gz+b64', 'gzip+base64', 'gz+base64', 'gzip+b64'].includes(encoding)) {
    return gunzipSync(Buffer.from(content, 'base64')).toString('utf8');
  }
  return content;
}

export function parseCloudConfig(text: string, machine: string): CloudConfig {
  if (!text.startsWith('#cloud-config')) {
    throw new Error(`rehearsal: user-data of ${machine} is not a #cloud-config document (starts with ${JSON.stringify(text.slice(0, 30))})`);
  }
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const writeFiles = ((doc.write_files ?? []) as Record<string, unknown>[]).map((e) => ({
    path: String(e.path),
    content: decodeContent(e),
    permissions: e.permissions === undefined ? undefined : String(e.permissions),
    owner: e.owner === undefined ? undefined : String(e.owner),
    defer: e.defer === true,
  }));
  const rehearsedKeys: string[] = [];
  const skippedKeys: { key: string; why: string }[] = [];
  for (const key of Object.keys(doc)) {
    if (APPLIED.includes(key)) rehearsedKeys.push(key);
    else skippedKeys.push({ key, why: STOOD_IN[key] ?? 'NOT rehearsed: no stand-in for this module' });
  }
  return { text, doc, writeFiles, rehearsedKeys, skippedKeys };
}

export function fileOf(config: CloudConfig, filePath: string): WriteFile | undefined {
  return config.writeFiles.find((f) => f.path === filePath);
}
