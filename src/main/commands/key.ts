/** `lifeline key create|list|revoke`: access keys agents register with (admin). */
import type { Command } from '../cli-kit.ts';
import { stringOption } from '../cli-kit.ts';
import { connectionOptions, onePositional, orDash, print, table, withClient } from './operator-options.ts';

const tenantOption = { type: 'string', valueName: 'TENANT', description: "Another tenant's id (administrators of the default tenant)." } as const;

export const keyCreate: Command = {
  path: ['key', 'create'],
  summary: 'Create an access key; it is shown only once.',
  options: { ...connectionOptions, label: { type: 'string', valueName: 'TEXT', description: 'What the key is for.' }, tenant: tenantOption },
  async run(args, io) {
    const label = stringOption(args, 'label');
    const tenantId = stringOption(args, 'tenant');
    const created = await withClient(args, (c) => c.createAccessKey({ ...(label ? { label } : {}), ...(tenantId ? { tenantId } : {}) }));
    print(args, io, created, (k) => `Access key ${k.keyId}${k.label ? ` (${k.label})` : ''}, shown only now:\n  ${k.key}`);
    return 0;
  },
};

export const keyList: Command = {
  path: ['key', 'list'],
  summary: "List a tenant's access keys (never the keys themselves).",
  options: { ...connectionOptions, tenant: tenantOption },
  async run(args, io) {
    const keys = await withClient(args, (c) => c.listAccessKeys(stringOption(args, 'tenant')));
    print(args, io, keys, (list) => list.length === 0 ? 'No access keys.' : table(
      ['KEY', 'LABEL', 'CREATED', 'REVOKED'],
      list.map((k) => [k.keyId, orDash(k.label), k.createdAt, orDash(k.revokedAt)]),
    ));
    return 0;
  },
};

export const keyRevoke: Command = {
  path: ['key', 'revoke'],
  summary: 'Revoke an access key: agents can no longer register with it.',
  positionals: '<key-id>',
  options: { ...connectionOptions, tenant: tenantOption },
  async run(args, io) {
    const keyId = onePositional(args, 'key id');
    await withClient(args, (c) => c.revokeAccessKey(keyId, stringOption(args, 'tenant')));
    print(args, io, { keyId, revoked: true }, () => `Revoked access key ${keyId}.`);
    return 0;
  },
};
