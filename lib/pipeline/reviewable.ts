/**
 * A synthesized Terraform JSON document made readable for snapshot tests and reviews: cdktf's `//` metadata dropped
 * and every machine's user-data shown as the text it boots with (the cloud-config), not a base64 or gzip blob; a node
 * group's mesh and scripts documents likewise shown as their files.
 * Pure: it reads the JSON `Testing.synth(stack)` returns (or `cdktf.out/stacks/<stack>/cdk.tf.json`).
 */
import { meshDocumentFiles, scriptsDocumentFiles } from '../policy/secrets';
import { userDataOf } from '../policy/user-data';

/** One machine's user-data, as `toReviewableJson` found it. */
export interface ReviewableUserData {
  /** `<resource type>.<logical id>` of the machine. */
  readonly address: string;
  /** The machine's name: the AWS `Name` tag or the GCP instance name, else its logical id. */
  readonly machine: string;
  /** Where in the resource it is: `user_data`, `user_data_base64`, `metadata.user-data`, `metadata.startup-script`... */
  readonly attribute: string;
  /** The value as synthesized (maybe base64 of a gzip). */
  readonly value: string;
  /** The text the machine boots with, decoded. */
  readonly text: string;
}

export interface ReviewableJsonOptions {
  /**
   * What a machine's user-data is replaced by. By default it is its decoded text; when that differs from the
   * synthesized value (base64, gzip, Terraform template escapes), the attribute is renamed `<name> (decoded)` so the
   * snapshot never passes decoded text off as the value Terraform receives.
   */
  readonly userData?: (userData: ReviewableUserData) => unknown;
  /**
   * What a node group's mesh document (a secret version's value, stored gzipped) is replaced by. By default it is
   * `{ format, generation, files }` with the files as text, under `<attribute> (decoded mesh document)`.
   */
  readonly meshDocument?: (document: ReviewableMeshDocument) => unknown;
  /**
   * What a node group's scripts document (a secret version's value, stored gzipped) is replaced by. By default it is
   * `{ format, sha256, files }` with the files as text by path, under `<attribute> (decoded scripts document)`.
   */
  readonly scriptsDocument?: (document: ReviewableScriptsDocument) => unknown;
}

/** A node group's scripts document, as `toReviewableJson` found it in a secret version. */
export interface ReviewableScriptsDocument {
  /** `<resource type>.<logical id>` of the secret version. */
  readonly address: string;
  /** `secret_string` (AWS) or `secret_data` (GCP). */
  readonly attribute: string;
  /** The value as synthesized. */
  readonly value: string;
  /** What the group's machines pin. */
  readonly sha256: string;
  /** Its files, decoded, by path. */
  readonly files: Record<string, string>;
}

/** A node group's mesh document, as `toReviewableJson` found it in a secret version. */
export interface ReviewableMeshDocument {
  /** `<resource type>.<logical id>` of the secret version. */
  readonly address: string;
  /** `secret_string` (AWS) or `secret_data` (GCP). */
  readonly attribute: string;
  /** The value as synthesized. */
  readonly value: string;
  readonly generation: string;
  /** Its files, decoded, by name. */
  readonly files: Record<string, string>;
}

const DOCUMENT_ATTRIBUTES: Record<string, string> = {
  aws_secretsmanager_secret_version: 'secret_string',
  google_secret_manager_secret_version: 'secret_data',
};

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : undefined;
}

function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  const object = record(value);
  if (!object) return value;
  return Object.fromEntries(Object.entries(object).filter(([key]) => key !== '//').map(([key, v]) => [key, withoutMetadata(v)]));
}

/** Replaces `key` in `object` by `newKey: value`, keeping the keys' order. */
function replaceKey(object: Json, key: string, newKey: string, value: unknown): Json {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => (k === key ? [newKey, value] : [k, v])));
}

/**
 * The document with `//` metadata removed and user-data decoded (see `ReviewableJsonOptions.userData`). Accepts the
 * JSON text `Testing.synth(stack)` returns or the parsed document; returns a new object.
 */
export function toReviewableJson(synthesized: string | object, options: ReviewableJsonOptions = {}): Json {
  const document = withoutMetadata(typeof synthesized === 'string' ? JSON.parse(synthesized) : synthesized) as Json;
  const resources = record(document.resource);
  if (!resources) return document;
  const machines = Object.fromEntries(Object.entries(resources).map(([type, byId]) => [type, Object.fromEntries(
    Object.entries(record(byId) ?? {}).map(([id, body]) => [id, reviewableMachine(type, id, body, options)]),
  )]));
  return { ...document, resource: machines };
}

function reviewableMachine(type: string, id: string, body: unknown, options: ReviewableJsonOptions): unknown {
  let config = record(body);
  if (!config) return body;
  const attribute = DOCUMENT_ATTRIBUTES[type];
  const stored = attribute === undefined ? undefined : config[attribute];
  const files = typeof stored === 'string' ? meshDocumentFiles(stored) : undefined;
  if (typeof stored === 'string' && files !== undefined) {
    const generation = String((JSON.parse(stored) as Json).generation);
    const found: ReviewableMeshDocument = { address: `${type}.${id}`, attribute, value: stored, generation, files };
    const shown = options.meshDocument ? options.meshDocument(found) : { format: (JSON.parse(stored) as Json).format, generation, files };
    return replaceKey(config, attribute, options.meshDocument ? attribute : `${attribute} (decoded mesh document)`, shown);
  }
  const scripts = typeof stored === 'string' ? scriptsDocumentFiles(stored) : undefined;
  if (typeof stored === 'string' && scripts !== undefined) {
    const { format, sha256 } = JSON.parse(stored) as Json;
    const found: ReviewableScriptsDocument = { address: `${type}.${id}`, attribute, value: stored, sha256: String(sha256), files: scripts };
    const shown = options.scriptsDocument ? options.scriptsDocument(found) : { format, sha256, files: scripts };
    return replaceKey(config, attribute, options.scriptsDocument ? attribute : `${attribute} (decoded scripts document)`, shown);
  }
  const tags = record(config.tags);
  const machine = typeof tags?.Name === 'string' ? tags.Name : typeof config.name === 'string' ? config.name : id;
  for (const source of userDataOf(type, config)) {
    // `metadata.user-data` is a key inside `metadata`; the others are top-level attributes.
    const [outer, inner] = source.where.startsWith('metadata.') ? ['metadata', source.where.slice('metadata.'.length)] : [source.where, undefined];
    const holder = inner === undefined ? config : record(config[outer])!;
    const key = inner ?? outer;
    const value = holder[key] as string;
    const shown = options.userData
      ? options.userData({ address: `${type}.${id}`, machine, attribute: source.where, value, text: source.text })
      : source.text;
    const newKey = options.userData || source.text === value ? key : `${key} (decoded)`;
    const replaced = replaceKey(holder, key, newKey, shown);
    config = inner === undefined ? replaced : { ...config, [outer]: replaced };
  }
  return config;
}
