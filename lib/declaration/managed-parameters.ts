/** postgresql.conf parameters the library manages. */

/** postgresql.conf parameters the library sets for Patroni and replication; users cannot override them. */
export const MANAGED_PARAMETERS = [
  'data_directory', 'hba_file', 'hot_standby', 'hot_standby_feedback', 'listen_addresses', 'max_replication_slots',
  'max_wal_senders', 'max_worker_processes', 'output_plugin_libraries', 'port', 'shared_preload_libraries',
  'ssl', 'ssl_ca_file', 'ssl_cert_file', 'ssl_key_file', 'synchronous_commit', 'synchronous_standby_names',
  'track_commit_timestamp', 'wal_level', 'wal_log_hints', 'snowflake.node', 'spock.conflict_resolution',
  'pglogical.conflict_resolution', 'password_encryption', 'cluster_name',
];
