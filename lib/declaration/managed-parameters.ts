/**
 * postgresql.conf parameters the library owns: `postgres.parameters` may not set them (DPG-POSTGRES), because a user
 * value would silently change replication, failover or TLS.
 *
 * The list cannot drift from the renderer: render/patroni.ts types every parameter map it writes with
 * `RenderedParameter`, so it cannot set a name missing here without a compile error, and
 * test/render/managed-parameters.test.ts renders every engine and checks that each name here is set by the renderer or
 * belongs to `SET_FROM_RENDERED_CONFIG`. The list lives here, not in render/, because the declaration is checked
 * before anything is rendered and imports nothing from later stages.
 */

/** Set by the rendered Patroni configuration (bootstrap.dcs parameters and the member-local `postgresql.parameters`). */
export const RENDERED_PARAMETERS = [
  // Logical replication and conflict detection, every engine.
  'hot_standby_feedback', 'password_encryption', 'track_commit_timestamp', 'wal_level', 'wal_log_hints',
  'wal_sender_timeout',
  // Sized to the mesh (max_logical_replication_workers with native replication only).
  'max_replication_slots', 'max_wal_senders', 'max_worker_processes', 'max_logical_replication_workers',
  // Bounded retention: what slots may keep in pg_wal for an absent peer (replication.walRetentionPercent).
  'max_slot_wal_keep_size',
  // The engine's libraries and settings.
  'shared_preload_libraries', 'spock.conflict_resolution', 'pglogical.conflict_resolution', 'snowflake.node',
  // WAL archiving to the group's pgBackRest repository (groups with backups; backup.archiveTimeoutSeconds).
  'archive_mode', 'archive_command', 'archive_timeout',
  // Member-local: TLS and the socket the scripts use.
  'ssl', 'ssl_ca_file', 'ssl_cert_file', 'ssl_key_file', 'unix_socket_directories',
] as const;

export type RenderedParameter = (typeof RENDERED_PARAMETERS)[number];

/** Set by Patroni from what the renderer configures, or by the rendered scripts: never by `postgres.parameters`. */
export const SET_FROM_RENDERED_CONFIG = [
  // Patroni derives these from scope, data_dir and listen/connect addresses.
  'cluster_name', 'data_directory', 'hba_file', 'hot_standby', 'listen_addresses', 'port',
  // Patroni's synchronous mode owns these: lowering synchronous_commit would void its guarantee.
  'synchronous_commit', 'synchronous_standby_names',
  // Extended with the engine's output plugin by the rendered allow-output-plugin.sql (ALTER SYSTEM).
  'output_plugin_libraries',
] as const;

/** Every parameter the library owns, sorted. */
export const MANAGED_PARAMETERS: readonly string[] = [...RENDERED_PARAMETERS, ...SET_FROM_RENDERED_CONFIG].sort();
