/** The app `cdktf synth` runs (cdktf.json: `node dist/stacks/main.js`): the reference ledger and the rehearsal fleets. */
import { App } from 'cdktf';
import { LedgerStack } from './ledger';
import { RehearsalStack, rehearsalFleet, rehearsalNextFleet, withoutLastGroup } from './rehearsal';
import { rehearsalNativeFleet } from './rehearsal-native';
import { rehearsalSpockFleet } from './rehearsal-spock';

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new LedgerStack(app, 'ledger');
  new RehearsalStack(app, 'rehearsal');
  new RehearsalStack(app, 'rehearsal-next', rehearsalNextFleet());
  new RehearsalStack(app, 'rehearsal-shrunk', withoutLastGroup(rehearsalFleet()));
  new RehearsalStack(app, 'rehearsal-native', rehearsalNativeFleet());
  new RehearsalStack(app, 'rehearsal-native-shrunk', withoutLastGroup(rehearsalNativeFleet()));
  new RehearsalStack(app, 'rehearsal-spock', rehearsalSpockFleet());
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
