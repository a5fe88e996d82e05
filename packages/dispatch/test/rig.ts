// Shared by the dispatcher tests: a bounded wait, a dispatcher with short test timeouts whose
// server events are collected and which is closed by the caller's cleanup list, and fake clamds
// closed after each test.
import { afterEach } from 'vitest';
import { createDispatcher, type Dispatcher, type DispatcherOptions, type ServerEvent } from '../src/index.js';
import { startFakeClamd, type FakeClamd } from './fake-clamd.js';

export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `wait: 'connected'` returns once every server is connected; `'settled'` once no non-idle server is
 * still connecting (some may be down on purpose).
 */
export async function testDispatcher(
  cleanup: Array<{ close(): Promise<void> }>,
  opts: Partial<DispatcherOptions> & Pick<DispatcherOptions, 'scanner_pools'>,
  wait: 'connected' | 'settled',
): Promise<{ d: Dispatcher; events: ServerEvent[] }> {
  const d = createDispatcher({ request_timeout: 0.3, scan_queue_timeout: 0.5, session_setup_timeout: 0.2, session_retry_interval: 0.02, max_session_setup_retries: 2, health_check_interval: 60, ...opts });
  const events: ServerEvent[] = [];
  d.on('server', (e: ServerEvent) => events.push(e));
  cleanup.push(d);
  await d.ready();
  await until(() => d.serverStatus().every((s) => (wait === 'connected' ? s.state === 'connected' : s.role === 'idle' || s.state !== 'connecting')));
  return { d, events };
}

/**
 * For a test file: a cleanup list closed (newest first) after each test, a fake clamd that joins it,
 * and a dispatcher on it that waits until every server is connected.
 */
export function fakeClamdRig(): {
  readonly open: Array<{ close(): Promise<void> }>;
  fake(b?: Parameters<typeof startFakeClamd>[0]): Promise<FakeClamd>;
  dispatcher(opts: Partial<DispatcherOptions> & Pick<DispatcherOptions, 'scanner_pools'>): Promise<{ d: Dispatcher; events: ServerEvent[] }>;
} {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  return {
    open,
    async fake(b = 'clean') {
      const f = await startFakeClamd(b);
      open.push(f);
      return f;
    },
    dispatcher: (opts) => testDispatcher(open, opts, 'connected'),
  };
}
