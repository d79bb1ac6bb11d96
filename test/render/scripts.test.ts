/**
 * The scripts in the user-data: every shell script parses (bash -n) and the units hold what the stand-in reads. They
 * are run for real in scripts.system.test.ts.
 */
import { Cloud, ImageFlavour, PackageSource } from '../../lib';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { shellSyntaxErrors, writtenFiles } from './helpers';

describe('every script parses', () => {
  // With a group restored from a backup (restoreFrom): its restore-bootstrap script.
  const restored = pglogicalFleet();
  const files = writtenFiles([ledgerFleet(), restored, singleGroupDedicatedEtcd(), {
    ...restored, name: 'restored',
    nodeGroups: [...restored.nodeGroups, { ...restored.nodeGroups[0], name: 'a-copy', number: 9, restoreFrom: { nodeGroup: restored.nodeGroups[0].name, targetTime: '2026-11-27T10:14:59Z' } }],
  }]);

  test('shell scripts: bash -n (and /bin/sh -n for the sh one)', () => {
    const shell = [...files].filter(([, c]) => c.startsWith('#!/bin/bash') || c.startsWith('#!/bin/sh'));
    expect(shell.some(([name]) => name.endsWith('/restore-bootstrap'))).toBe(true);
    expect(shell.length).toBeGreaterThan(50);
    expect(shellSyntaxErrors(shell)).toBe('');
    for (const [, content] of shell) expect(content).not.toMatch(/undefined|\[object Object\]/);
  });

  test('the syntax check itself fails on a script that does not parse (bash and sh)', () => {
    expect(shellSyntaxErrors([['ok', '#!/bin/bash\necho fine\n'], ['bad-bash', '#!/bin/bash\nif then\n'], ['bad-sh', '#!/bin/sh\nx=$((\n']]))
      .toMatch(/^(?=[\s\S]*FAILED \S*1-bad-bash)(?=[\s\S]*FAILED \S*2-bad-sh)(?![\s\S]*0-ok)/);
  });

  test('systemd units have only known sections and the keys the rehearsal stand-in reads', () => {
    const units = [...files].filter(([name]) => name.endsWith('.service'));
    expect(units.length).toBeGreaterThan(10);
    for (const [name, content] of units) {
      const sections = content.split('\n').filter((l) => l.startsWith('[')).map((l) => l.trim());
      // A backup service runs when its timer fires (the timer is what is enabled): no [Install] of its own.
      const backup = /distributed-postgres-backup-(full|diff|incr)\.service$/.test(name);
      // So does the restart of postgres_exporter when its queries change (its path unit is what is enabled).
      const queries = name.endsWith('/distributed-postgres-exporter-queries.service');
      expect({ name, sections }).toEqual({ name, sections: backup || queries ? ['[Unit]', '[Service]'] : ['[Unit]', '[Service]', '[Install]'] });
      expect(content).toMatch(/^ExecStart=\/\S+/m);
      // Services run as long-lived processes; the bootstrap is a oneshot its unit retries until it succeeds.
      if (queries) {
        expect(content).toMatch(/^Type=oneshot$/m);
        expect(content).toMatch(/^ExecStart=\/bin\/systemctl try-restart prometheus-postgres-exporter\.service$/m);
      } else if (backup) {
        expect(content).toMatch(/^Type=oneshot$/m);
        expect(content).toMatch(/^TimeoutStartSec=infinity$/m);
        expect(content).toMatch(new RegExp(`^ExecStart=/usr/local/lib/distributed-postgres/backup ${/backup-(\w+)\.service$/.exec(name)![1]}$`, 'm'));
      } else if (name.endsWith('distributed-postgres-bootstrap.service')) {
        expect(content).toMatch(/^Type=oneshot$/m);
        expect(content).toMatch(/^Restart=on-failure$/m);
        expect(content).toMatch(/^StartLimitIntervalSec=0$/m);
        expect(content).toMatch(/^TimeoutStartSec=infinity$/m);
      } else {
        expect(content).toMatch(/^Type=simple$/m);
      }
    }
  });
});

/** A rendered script with its absolute paths moved under `root` (the scripts write /etc, /run, /usr/local). */
test('the Debian 12 pglogical fixture really is Debian 12 / distro (what the rehearsal runs)', () => {
  const props = pglogicalFleet();
  expect(props.nodeGroups.every((g) => g.image === ImageFlavour.DEBIAN_12 && g.cloud === Cloud.AWS)).toBe(true);
  expect(props.postgres?.packageSource).toBe(PackageSource.DISTRO);
});
