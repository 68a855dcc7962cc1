/** `lifeline tenant create`: a new tenant of a multi-tenant server (administrators of the default tenant). */
import type { Command } from '../cli-kit.ts';
import { connectionOptions, onePositional, print, withClient } from './operator-options.ts';

export const tenantCreate: Command = {
  path: ['tenant', 'create'],
  summary: 'Create a tenant; then give it an access key and an admin token (key create / token create --tenant).',
  positionals: '<name>',
  options: connectionOptions,
  async run(args, io) {
    const name = onePositional(args, 'tenant name');
    const tenant = await withClient(args, (c) => c.createTenant(name));
    print(args, io, tenant, (t) => `Created tenant ${t.name}: ${t.tenantId}`);
    return 0;
  },
};
