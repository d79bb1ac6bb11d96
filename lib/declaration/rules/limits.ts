/** What a declaration may contain: the shapes of names and values, PostgreSQL's reserved words, size limits. */

export const PATTERNS = {
  fleetName: /^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$/,
  groupName: /^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/,
  geoshardName: /^[a-z][a-z0-9_]{0,19}$/,
  identifier: /^[a-z_][a-z0-9_]{0,62}$/,
  table: /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/,
  parameterName: /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/,
  parameterValue: /^[A-Za-z0-9_.,:/ *+%=@-]{0,256}$/,
  partitionValue: /^[A-Za-z0-9_ .-]{1,63}$/,
  tagKey: /^[a-z_][a-z0-9_]{0,30}$/,
  tagValue: /^[A-Za-z0-9_.-]{0,64}$/,
  machineType: /^[a-z0-9][a-z0-9.-]{1,40}$/,
  diskType: /^[a-z0-9][a-z0-9-]{1,19}$/,
  dnsZone: /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
  secretPrefix: /^[A-Za-z][A-Za-z0-9_-]{0,40}$/,
  /** An absolute directory: rendered into YAML, shell and systemd units, so no whitespace, quotes or `..`. */
  binDir: /^(\/[A-Za-z0-9_.+-]+)+\/?$/,
  amiId: /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/,
  amiOwner: /^(\d{12}|self|amazon|aws-marketplace)$/,
  /** AMI names allow letters, digits, `( ) [ ] . / - ' @ _` and space; patterns add `*` and `?`. No space or quote here. */
  amiNamePattern: /^[A-Za-z0-9()[\]./@_*?-]{1,128}$/,
  gcpImage: /^(projects\/[a-z][a-z0-9.:-]{1,62}[a-z0-9]\/global\/images\/(family\/)?)?[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
};

/**
 * PostgreSQL's reserved key words (including those allowed only as function or type names): unquoted, they
 * cannot name a table, column, schema or database, so a rendered statement using one fails at boot.
 */
export const RESERVED_WORDS = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'binary', 'both', 'case',
  'cast', 'check', 'collate', 'collation', 'column', 'concurrently', 'constraint', 'create', 'cross', 'current_catalog',
  'current_date', 'current_role', 'current_schema', 'current_time', 'current_timestamp', 'current_user', 'default',
  'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'freeze', 'from',
  'full', 'grant', 'group', 'having', 'ilike', 'in', 'initially', 'inner', 'intersect', 'into', 'is', 'isnull', 'join',
  'lateral', 'leading', 'left', 'like', 'limit', 'localtime', 'localtimestamp', 'natural', 'not', 'notnull', 'null',
  'offset', 'on', 'only', 'or', 'order', 'outer', 'overlaps', 'placing', 'primary', 'references', 'returning', 'right',
  'select', 'session_user', 'similar', 'some', 'symmetric', 'system_user', 'table', 'tablesample', 'then', 'to',
  'trailing', 'true', 'union', 'unique', 'user', 'using', 'variadic', 'verbose', 'when', 'where', 'window', 'with',
]);

/** Databases every cluster has (Patroni and the tools use them): the replicated application database must be another. */
export const SYSTEM_DATABASES = ['postgres', 'template0', 'template1'];

export const MAX_MEMBERS = 9;
export const MAX_ZONES = 8;
/** The smallest group CIDR: 8 zone blocks of /26, room for members (offset 10+), dedicated etcd (30+) and the load balancer (5). */
export const MIN_GROUP_PREFIX = 23;
