/** waitFor: retries a probe until it answers or the deadline passes, and stops at once when its caller gives up. */
import { waitFor } from '../src/shell';

test('waitFor returns the first answer, after probes that failed or had none', async () => {
  let calls = 0;
  const got = await waitFor('an answer', 5000, async () => {
    calls++;
    if (calls === 1) throw new Error('not yet');
    return calls === 3 ? 'ready' : undefined;
  }, 1);
  expect({ got, calls }).toEqual({ got: 'ready', calls: 3 });
});

test('waitFor stops probing once its signal is aborted, long before its deadline', async () => {
  const stop = new AbortController();
  let calls = 0;
  const waiting = waitFor('nothing', 60_000, async () => {
    calls++;
    return undefined;
  }, 5, stop.signal);
  await new Promise((r) => setTimeout(r, 30));
  stop.abort();
  await expect(waiting).rejects.toThrow('stopped waiting for nothing');
  const after = calls;
  await new Promise((r) => setTimeout(r, 30));
  expect(calls).toBe(after);
});
