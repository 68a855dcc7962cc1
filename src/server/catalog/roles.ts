/**
 * What each operator role may do (seed §2): admins bind and authorize targets and manage pools
 * and keys; operators create and run jobs. Admins may do everything operators may.
 */
import type { OperatorRole } from './types.ts';

export type OperatorAction =
  | 'agent.bind'
  | 'agent.unbind'
  | 'pool.manage'
  | 'key.manage'
  | 'token.manage'
  | 'job.create'
  | 'job.run'
  | 'job.delete'
  | 'catalog.read';

const OPERATOR_ACTIONS: ReadonlySet<OperatorAction> = new Set(['job.create', 'job.run', 'job.delete', 'catalog.read']);

export function roleAllows(role: OperatorRole, action: OperatorAction): boolean {
  return role === 'admin' || OPERATOR_ACTIONS.has(action);
}
