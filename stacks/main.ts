/** The app `cdktf synth` runs (cdktf.json: `node dist/stacks/main.js`): the reference ledger and the rehearsal fleet. */
import { App } from 'cdktf';
import { LedgerStack } from './ledger';
import { RehearsalStack } from './rehearsal';

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new LedgerStack(app, 'ledger');
  new RehearsalStack(app, 'rehearsal');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
