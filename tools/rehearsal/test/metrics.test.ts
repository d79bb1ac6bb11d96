/**
 * The metrics drills' own statement of the metrics contract must agree with the library's. The test imports the library
 * as the oracle; the tool's src/ never does.
 */
import { PORTS } from '../../../lib';
import { EXPORTER_PORTS } from '../src/drills/metrics';

test('the exporter ports the drills scrape are the library\'s', () => {
  expect(EXPORTER_PORTS).toEqual({ postgres: PORTS.postgresExporter, node: PORTS.nodeExporter });
});
