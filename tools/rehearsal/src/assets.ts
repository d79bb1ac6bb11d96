/** The Python the hosts and clients run (systemd stand-in, writer load), staged where every host can read it. */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'fs';
import * as path from 'path';

const ASSET_DIR = '/srv/dpg-rehearsal-assets';

/** The package's assets/ (Python run inside the hosts): src/ and dist/ both sit beside it. */
export function assetPath(relative: string): string {
  const found = path.join(__dirname, '..', 'assets', relative);
  if (!existsSync(found)) throw new Error(`rehearsal asset missing: ${relative} (looked for ${found})`);
  // Hosts get a fresh /tmp (and the checkout may live there, as in CI), so they run a copy kept under /srv,
  // which every host sees read-only.
  const copy = path.join(ASSET_DIR, relative);
  mkdirSync(path.dirname(copy), { recursive: true });
  // Atomic replace: a host may be reading the previous copy right now.
  const staging = `${copy}.${process.pid}.tmp`;
  copyFileSync(found, staging);
  renameSync(staging, copy);
  return copy;
}
