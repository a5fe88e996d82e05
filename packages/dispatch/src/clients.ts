// The client factory: one protocol client per configured server address.
import type { ServerAddress } from './address.js';
import { BuiltinClient } from './builtin-client.js';
import { ClamdClient } from './clamd-client.js';
import type { ScannerClient } from './client.js';
import type { ResolvedConfig } from './config.js';
import { IcapClient } from './icap-client.js';

export function makeClient(a: ServerAddress, cfg: ResolvedConfig): ScannerClient {
  switch (a.type) {
    case 'clamd': return new ClamdClient(a.endpoint!, a.raw, { sessions: a.session, scanByPath: a.scanByPath, maxSessions: cfg.maxConnectionsPerServer });
    case 'icap': {
      const ep = a.endpoint as { host: string; port: number };
      return new IcapClient(ep.host, ep.port, a.service, a.raw);
    }
    case 'builtin': return new BuiltinClient(cfg.builtinSignatures);
  }
}
