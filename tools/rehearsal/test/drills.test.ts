/** The drill list: its order is the default run order (and the CLI's), and the failover drills are among it. */
import { DRILLS, FAILOVER_DRILLS } from '../src/drills';

test('every drill, in the default order', () => {
  expect(DRILLS).toEqual(['baseline', 'kill-postgres', 'kill-leader-member', 'lose-etcd', 'replace-member', 'replace-leader-member', 'interrupted-bootstrap', 'partition', 'conflict', 'delta-apply', 'snowflake', 'geoshard']);
  expect(FAILOVER_DRILLS.every((d) => DRILLS.includes(d))).toBe(true);
});
