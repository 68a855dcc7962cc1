/**
 * DriverTool on Windows (reference §5): for each of the machine's hardware IDs, the catalogs (the
 * media's drivers/ and any configured) are searched with matchCatalogDrivers, the answers of all
 * catalogs ranked together with rankDrivers, and the best NIC (class Net) or storage (SCSIAdapter,
 * HDC) driver kept; each chosen INF then goes in with
 *   dism /Image:W:\ /English /LogPath:W:\Windows\Logs\DISM\lifeline-add-driver.log /Add-Driver /Driver:<inf>
 * Other classes (video, balloon, …) are left to Windows' own PnP at first logon. Virtio drivers
 * are chosen only when the machine reports virtio IDs (PCI\VEN_1AF4…), i.e. under KVM.
 */
import type { CatalogInf } from '../../../core/drivers/catalog.ts';
import { rankDrivers } from '../../../core/drivers/match.ts';
import type { DriverMatch, PnpDeviceIds } from '../../../core/drivers/match.ts';
import type { InfTarget } from '../../../core/drivers/inf.ts';
import type { StepOutcome } from '../../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../../core/units.ts';
import type { DriverCatalogStore } from '../../../ports/driver-catalog.ts';
import type { DriverInjectionRequest, DriverTool } from '../../../ports/driver-tool.ts';
import { runDismAddDriver } from '../tools/dism.ts';
import { locateWindows } from './locate-windows.ts';
import type { FinishDeps } from './locate-windows.ts';
import { failedOutcome, throwIfAborted } from './outcome.ts';

export const INJECTED_CLASSES = ['Net', 'SCSIAdapter', 'HDC'] as const;

export interface DriverCatalogSource {
  readonly store: DriverCatalogStore;
  /** The catalog folder as a Windows path (`D:\drivers`); default: the store's location. */
  readonly windowsRoot?: string;
}

/** A catalog match as the app's `matchCatalogDrivers` returns it (the part used here). */
export type CatalogMatch = DriverMatch & { readonly catalogInf: CatalogInf };

/** The app's `matchCatalogDrivers(store, ids, target)`, passed in: adapters do not import the app layer. */
export type MatchCatalogDrivers = (store: DriverCatalogStore, ids: PnpDeviceIds, target: InfTarget) => Promise<readonly CatalogMatch[]>;

export interface DismDriverToolDeps extends FinishDeps {
  readonly catalogs: readonly DriverCatalogSource[];
  readonly matchCatalogDrivers: MatchCatalogDrivers;
  /** Default x64, any Windows version. */
  readonly target?: InfTarget;
}

export interface ChosenDriver {
  /** Windows path of the INF. */
  readonly inf: string;
  readonly class: string;
  readonly bootCritical: boolean;
  /** The machine's hardware IDs this INF was chosen for. */
  readonly forIds: readonly string[];
  readonly reasons: readonly string[];
}

const isInjectedClass = (cls: string) => INJECTED_CLASSES.some((c) => c.toLowerCase() === cls.toLowerCase());

function windowsInfPath(source: DriverCatalogSource, match: CatalogMatch): string {
  const root = (source.windowsRoot ?? source.store.location).replace(/[\\/]+$/, '');
  return `${root}\\${match.source.split('/').join('\\')}`;
}

/** The best NIC/storage driver per hardware ID over all catalogs, one entry per INF. */
export async function chooseDrivers(matchCatalogDrivers: MatchCatalogDrivers, catalogs: readonly DriverCatalogSource[], hardwareIds: readonly string[], target: InfTarget): Promise<ChosenDriver[]> {
  const chosen = new Map<string, { inf: string; class: string; bootCritical: boolean; forIds: string[]; reasons: string[] }>();
  for (const id of hardwareIds) {
    const ids = { hardwareIds: [id] };
    const byKey = new Map<string, { source: DriverCatalogSource; match: CatalogMatch }>();
    for (const source of catalogs) {
      for (const match of await matchCatalogDrivers(source.store, ids, target)) {
        if (isInjectedClass(match.catalogInf.class)) byKey.set(windowsInfPath(source, match), { source, match });
      }
    }
    const best = rankDrivers(ids, [...byKey].map(([key, { match }]) => ({ source: key, inf: match.inf })), target)[0];
    if (best === undefined) continue;
    const { match } = byKey.get(best.source)!;
    const known = chosen.get(best.source);
    if (known !== undefined) {
      known.forIds.push(id);
      continue;
    }
    chosen.set(best.source, { inf: best.source, class: match.catalogInf.class, bootCritical: best.bootCritical, forIds: [id], reasons: [...best.reasons] });
  }
  return [...chosen.values()];
}

const describe = (d: ChosenDriver) => `${d.inf} (${d.class}${d.bootCritical ? ', boot-critical' : ''}) for ${d.forIds.join(', ')}: ${d.reasons[0] ?? ''}`;

export class DismDriverTool implements DriverTool {
  constructor(private readonly deps: DismDriverToolDeps) {}

  async injectDrivers(request: DriverInjectionRequest, signal?: AbortSignalLike): Promise<StepOutcome> {
    let step = 'choosing drivers';
    const injected: string[] = [];
    try {
      throwIfAborted(signal);
      const drivers = await chooseDrivers(this.deps.matchCatalogDrivers, this.deps.catalogs, request.hardwareIds, this.deps.target ?? { arch: 'amd64' });
      if (drivers.length === 0) {
        const where = this.deps.catalogs.map((c) => c.windowsRoot ?? c.store.location).join(', ') || 'no catalog';
        return { status: 'skipped', why: `no NIC or storage driver in ${where} matches the hardware IDs looked for: ${request.hardwareIds.join(', ') || '(none)'}` };
      }
      step = 'locating the restored Windows';
      const found = await locateWindows(request.system, this.deps);
      if ('skipped' in found) return { status: 'skipped', why: found.skipped };
      const win = found.located.windows.letter;
      for (const driver of drivers) {
        step = `dism /Add-Driver ${driver.inf}`;
        throwIfAborted(signal);
        const report = await runDismAddDriver(this.deps.runner, {
          image: `${win}\\`, logPath: `${win}\\Windows\\Logs\\DISM\\lifeline-add-driver.log`, drivers: [driver.inf],
        });
        const refused = report.packages.find((p) => !p.installed);
        if (refused !== undefined) {
          return { status: 'failed', code: 'tool.dism-failed', message: `${step}: ${refused.path}: ${refused.message}${injected.length > 0 ? `\ninjected before: ${injected.join('\n')}` : ''}` };
        }
        injected.push(describe(driver));
      }
      return { status: 'done', detail: `injected into ${win}\\Windows:\n${injected.join('\n')}` };
    } catch (e) {
      const outcome = failedOutcome(e, step);
      return outcome.status === 'failed' && injected.length > 0 ? { ...outcome, message: `${outcome.message}\ninjected before: ${injected.join('\n')}` } : outcome;
    }
  }
}
