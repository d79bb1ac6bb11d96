/**
 * What the alert check gives promtool: a scraped exposition turned into `input_series`. A wrong conversion would make
 * the real promtool judge other series than the exporters served (and the alert check report the wrong alerts).
 */
import { inputSeries } from '../src/drills/alert-check';
import { series } from '../src/drills/metrics';

const INSTANCE = '10.0.1.11:9187';

const EXPOSITION = [
  '# HELP dpg_slot_info One replication slot on this member.',
  '# TYPE dpg_slot_info gauge',
  'dpg_slot_info{node_group="eu",slot="dpg_us",kind="logical",peer_group="us",wal_status="lost"} 1',
  'dpg_mesh_problems 2',
  'dpg_mesh_state{} 0',
  // Escaped quotes and a brace inside a label value belong to the value.
  'dpg_mesh_state{node_group="eu",state="say \\"hi\\" {x}"} 1',
  // A trailing comma in the label list, and a timestamp after the value.
  'dpg_postgres_timeline{node_group="eu",} 3 1700000000000',
  'node_filesystem_avail_bytes{device="/dev/vdb",mountpoint="/var/lib/postgresql"} 1.5e+10',
  // Not the fleet's series nor the data disk's.
  'node_cpu_seconds_total{cpu="0",mode="idle"} 12.5',
  'go_goroutines 9',
  // A histogram and a summary: their finite lines are series like any other.
  '# TYPE dpg_apply_seconds histogram',
  'dpg_apply_seconds_bucket{le="0.1"} 4',
  'dpg_apply_seconds_bucket{le="+Inf"} 5',
  'dpg_apply_seconds_sum 0.42',
  'dpg_apply_seconds_count 5',
  '# TYPE dpg_scan_seconds summary',
  'dpg_scan_seconds{quantile="0.5"} NaN',
  'dpg_scan_seconds{quantile="0.99"} 0.25',
  'dpg_overflow +Inf',
  '',
].join('\n');

test('an exposition becomes promtool input series: the fleet\'s and the data disk\'s lines, each with the target, constant for 10 minutes', () => {
  expect(inputSeries({ instance: INSTANCE, text: EXPOSITION })).toEqual([
    { series: 'up{instance="10.0.1.11:9187"}', values: '1x20' },
    { series: 'dpg_slot_info{node_group="eu",slot="dpg_us",kind="logical",peer_group="us",wal_status="lost",instance="10.0.1.11:9187"}', values: '1x20' },
    { series: 'dpg_mesh_problems{instance="10.0.1.11:9187"}', values: '2x20' },
    { series: 'dpg_mesh_state{instance="10.0.1.11:9187"}', values: '0x20' },
    { series: 'dpg_mesh_state{node_group="eu",state="say \\"hi\\" {x}",instance="10.0.1.11:9187"}', values: '1x20' },
    { series: 'dpg_postgres_timeline{node_group="eu",instance="10.0.1.11:9187"}', values: '3x20' },
    { series: 'node_filesystem_avail_bytes{device="/dev/vdb",mountpoint="/var/lib/postgresql",instance="10.0.1.11:9187"}', values: '15000000000x20' },
    { series: 'dpg_apply_seconds_bucket{le="0.1",instance="10.0.1.11:9187"}', values: '4x20' },
    { series: 'dpg_apply_seconds_bucket{le="+Inf",instance="10.0.1.11:9187"}', values: '5x20' },
    { series: 'dpg_apply_seconds_sum{instance="10.0.1.11:9187"}', values: '0.42x20' },
    { series: 'dpg_apply_seconds_count{instance="10.0.1.11:9187"}', values: '5x20' },
    { series: 'dpg_scan_seconds{quantile="0.99",instance="10.0.1.11:9187"}', values: '0.25x20' },
  ]);
});

test('an exposition without the fleet\'s series gives only the target\'s up', () => {
  expect(inputSeries({ instance: 'db-1.eu.internal:9100', text: '# HELP go_goroutines x\ngo_goroutines 9\n' }))
    .toEqual([{ series: 'up{instance="db-1.eu.internal:9100"}', values: '1x20' }]);
});

test('the exposition reader the drills share: name, label text as served, value; anything else is no series', () => {
  expect(series('dpg_mesh_state{node_group="eu",state="a}b \\"c\\""} 1\n# TYPE x gauge\ndpg_broken{a="b" 1\n')).toEqual([
    ['dpg_mesh_state', '{node_group="eu",state="a}b \\"c\\""}', 1],
    ['', '', NaN],
  ]);
});
