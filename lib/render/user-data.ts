/** User-data as each cloud takes it: AWS at most 16384 bytes raw (gzip + base64 when larger), GCP 256 KiB. */
import { parse } from 'yaml';
import { gzipDeterministic } from './gzip';

export const AWS_USER_DATA_LIMIT = 16384;
export const GCP_METADATA_VALUE_LIMIT = 256 * 1024;

export interface EncodedUserData {
  /** `plain`: the cloud-config text as is; `gzip+base64`: base64 of a gzip of it (AWS `user_data_base64`). */
  readonly encoding: 'plain' | 'gzip+base64';
  readonly value: string;
}

export function encodeUserData(cloud: 'aws' | 'gcp', cloudConfig: string, hostName: string): EncodedUserData {
  const raw = Buffer.from(cloudConfig, 'utf8');
  if (cloud === 'gcp') {
    if (raw.length > GCP_METADATA_VALUE_LIMIT) {
      throw tooLarge(`render: the cloud-config of '${hostName}' is ${raw.length} bytes, above GCP's metadata value limit of ` +
        `${GCP_METADATA_VALUE_LIMIT} bytes`, cloudConfig);
    }
    return { encoding: 'plain', value: cloudConfig };
  }
  if (raw.length <= AWS_USER_DATA_LIMIT) return { encoding: 'plain', value: cloudConfig };
  const gzipped = gzipDeterministic(raw);
  if (gzipped.length > AWS_USER_DATA_LIMIT) {
    throw tooLarge(`render: the cloud-config of '${hostName}' is ${raw.length} bytes (${gzipped.length} gzipped), above AWS's ` +
      `user-data limit of ${AWS_USER_DATA_LIMIT} bytes even compressed`, cloudConfig);
  }
  return { encoding: 'gzip+base64', value: gzipped.toString('base64') };
}

/**
 * A cloud-config its cloud cannot take, with its three largest files named (parsed only then: it costs), so the
 * caller's fix can name the prop behind them.
 */
function tooLarge(message: string, cloudConfig: string): Error {
  const files = (parse(cloudConfig)?.write_files ?? []) as { path?: string; content?: string }[];
  const largest = files.map((f) => ({ path: String(f.path), bytes: Buffer.byteLength(String(f.content ?? ''), 'utf8') }))
    .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, 3);
  return new Error(`${message}; its largest files: ${largest.map((f) => `${f.path} (${f.bytes} bytes)`).join(', ')}`);
}
